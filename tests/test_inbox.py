"""Families' questions: the honest reply, the inbox, answers on the asker's channel, privacy and audit."""

from __future__ import annotations

import time

import pytest

from bot.store import Audit
from bot.store.questions import Questions
from tests.conftest import Phone, drain, recorded
from tests.test_dashboard import ESCAPED, XSS, Dashboard, users  # noqa: F401 (the users fixture)
from tests.test_whatsapp import WhatsAppPhone

ASKER = "+256712345601"
QUESTION = "is it safe to breastfeed when I have malaria"


@pytest.fixture
def config(config):
    return {**config, "HELPDESK": True, "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886"}


@pytest.fixture
def dash(client, users) -> Dashboard:  # noqa: F811
    return Dashboard(client)


def inbox(services) -> Questions:
    return Questions(services.store, 90)


def test_a_question_gets_the_closest_tips_and_a_promise_and_waits_in_the_inbox(client, services):
    family = Phone(client, ASKER)
    family.text("hi")
    reply = "\n".join(family.text(QUESTION))
    assert "Thank you for your question" in reply and "A health worker will reply" in reply
    assert "Malaria" in reply  # the closest tips name their topic
    (q,) = inbox(services).open()
    assert q["text"] == QUESTION and q["phone"] == ASKER and q["channel"] == "sms" and not q["urgent"]
    more = " ".join(family.text("MORE"))  # the first tip's detail
    details = [m.detail[:40] for t in services.catalog.language("en").topics for m in t.messages]
    assert any(d in more for d in details)


def test_without_a_helpdesk_nobody_is_promised_an_answer(make_app, services):
    client = make_app(HELPDESK=False).test_client()
    reply = "\n".join(Phone(client, ASKER).text(QUESTION))
    assert "health worker will reply" not in reply and "cannot answer questions ourselves" in reply


def test_short_texts_and_commands_are_no_questions(client, services):
    family = Phone(client, ASKER)
    for text in ("hi", "MALARIA", "10", "thanks a lot", "JOIN MALARIA", "Safe motherhood and newborn health"):
        family.text(text)
    assert inbox(services).open() == []


def test_a_danger_sign_is_answered_at_once_and_goes_to_the_top(client, services):
    Phone(client, "+256712345602").text(QUESTION)
    time.sleep(0.01)
    (urgent,) = Phone(client, "+256712345603").text("my baby is not breathing what do I do")
    assert "urgent" in urgent.lower()
    first, second = inbox(services).open()
    assert first["urgent"] and first["phone"] == "+256712345603" and not second["urgent"]
    assert inbox(services).counts() == (2, 1)


def test_only_operators_read_questions_and_payloads_render_as_text(client, services, dash):
    for n, payload in enumerate(XSS):
        Phone(client, f"+25671234561{n}").text(f"my baby cries at night {payload}")
    page = dash.as_role("viewer").get("/dashboard/inbox").text
    assert "Open now" in page and "cries at night" not in page
    dash.post("/dashboard/logout")
    page = dash.as_role("operator").get("/dashboard/inbox").text
    assert "cries at night" in page and all(e in page for e in ESCAPED) and not any(x in page for x in XSS)


def test_an_answer_goes_by_sms_is_logged_audited_and_closes_the_question(client, services, dash, config):
    Phone(client, ASKER).text(QUESTION)
    (q,) = inbox(services).open()
    dash.as_role("operator")
    response = dash.post(f"/dashboard/inbox/{q['id']}/answer", {"text": "Yes: keep breastfeeding and get tested."})
    assert response.status_code == 302
    assert inbox(services).open() == [] and inbox(services).get(q["id"])["answered_by"] == "operator@example.org"
    drain(services, "replies")
    (sent,) = [r for r in recorded(config) if r["to"] == ASKER]
    assert sent["body"] == "Yes: keep breastfeeding and get tested." and sent["channel"] == "sms"
    (entry,) = [e for _, e in Audit(services.store).recent(10) if e["action"] == "question_answered"]
    assert entry["question"] == q["id"] and entry["channel"] == "sms" and ASKER not in str(entry)
    again = dash.post(f"/dashboard/inbox/{q['id']}/answer", {"text": "twice"}, follow_redirects=True)
    assert "answered already" in again.text  # a second answer sends nothing
    drain(services, "replies")
    assert len([r for r in recorded(config) if r["to"] == ASKER]) == 1


def test_a_whatsapp_question_is_answered_on_whatsapp_inside_the_window(client, services, dash, config):
    WhatsAppPhone(client, ASKER).text(QUESTION)
    (q,) = inbox(services).open()
    assert q["channel"] == "whatsapp"
    dash.as_role("operator")
    assert "Goes by WhatsApp" in dash.get("/dashboard/inbox").text
    dash.post(f"/dashboard/inbox/{q['id']}/answer", {"key_message": "malaria/" + _malaria_first(services)})
    drain(services, "replies")
    (sent,) = [r for r in recorded(config) if r["to"] == ASKER]
    assert sent["channel"] == "whatsapp" and "content_sid" not in sent
    assert services.catalog.language("en").topic("malaria").messages[0].short in sent["body"]


def _malaria_first(services) -> str:
    return services.catalog.language("en").topic("malaria").messages[0].id


def test_canned_answers_are_for_admins(services, dash):
    dash.as_role("operator")
    assert dash.post("/dashboard/inbox/canned", {"name": "thanks", "text": "Thank you!"}).status_code == 403
    dash.post("/dashboard/logout")
    dash.as_role("admin")
    dash.post("/dashboard/inbox/canned", {"name": "thanks", "text": "Thank you!"})
    assert inbox(services).canned() == {"thanks": "Thank you!"}
    assert "Thank you!" in dash.get("/dashboard/inbox").text


def test_the_counter_counts_as_the_channel_does(dash):
    dash.as_role("operator")
    sms = dash.json("/dashboard/api/inbox/count", {"text": "é" * 100, "channel": "sms"}).get_json()
    assert sms["segments"] == 1 and sms["channel"] == "sms"
    assert dash.json("/dashboard/api/inbox/count", {"text": "न" * 100, "channel": "sms"}).get_json()["segments"] == 2
    wa = dash.json("/dashboard/api/inbox/count", {"text": "न" * 100, "channel": "whatsapp"}).get_json()
    assert wa == {"channel": "whatsapp", "characters": 100, "limit": 1600}


def test_figures_per_day_median_first_answer_and_open(services):
    questions, now = inbox(services), time.time()
    for n, (asked, answered) in enumerate([(now - 3600, now - 3000), (now - 7200, now - 5400), (now - 60, None)]):
        doc = {**Questions.document(f"+25671234570{n}", "q", "en", "sms", False, asked)}
        services.store.commit(f"+25671234570{n}", services.store.load(f"+25671234570{n}", "x"), _profile(),
                              questions.writes(doc), [])  # fmt: skip
        if answered:
            questions.close(doc["id"], answer="a", by="op", channel="sms", now=answered)
    figures = questions.figures(now=now)
    assert figures.open_now == 1 and figures.median_first_answer == pytest.approx((600 + 1800) / 2)
    assert figures.per_day[-1][1] + figures.per_day[-2][1] == 3


def _profile():
    from bot.menu import Profile

    return Profile(lang="en", country="UG")


def test_questions_keep_every_key_in_keys(services):
    k = services.store.keys
    assert k.question("abc") == f"{k.prefix}question:abc" and k.questions_open() == f"{k.prefix}questions:open"
    assert k.questions_asked() == f"{k.prefix}questions:asked" and k.canned_answers() == f"{k.prefix}questions:canned"
