"""WhatsApp: the renderer, signed WhatsApp webhooks as the same person, and messages we start.

Outbound paths run through the real `twilio` client against a local imitation of Twilio's
API (tests/fakes.py), or the record provider; the templates come from a copy of messages/
with Content SIDs filled in.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from bot import content, reach, whatsapp
from bot.content.whatsapp import Template
from bot.engine import Engine
from bot.menu import Profile, Session, State
from bot.render.whatsapp import WhatsAppRenderer
from bot.settings import ROOT
from bot.store.channels import last_channel, whatsapp_in
from tests.conftest import BASE_URL, WHATSAPP_SENDER, Phone, recorded, replies, sign, twilio_settings
from tests.fakes import FakeGateway, twilio_error, twilio_message
from tests.storeview import person_log

NUMBER = "+256712345670"  # Uganda: English
SENDER = WHATSAPP_SENDER
TIP_SID = "HX" + "a" * 32
MESSAGE_SID = "HX" + "b" * 32
CATALOG = content.load(ROOT / "messages")
WA = Engine(CATALOG, WhatsAppRenderer())


class WhatsAppPhone(Phone):
    """A family writing on WhatsApp: the same webhook, From whatsapp:+E164, WaId and ProfileName."""

    def form(self, body: str, sid: str | None = None, **extra: str) -> dict:
        form = super().form(body, sid)
        form.update({"From": whatsapp.address(self.number), "To": SENDER, "WaId": self.number[1:],
                     "ProfileName": "Amina", "MessageType": "text", **extra})  # fmt: skip
        return form

    def tap(self, payload: str, text: str) -> list[str]:
        response = self.post(self.form("", ButtonPayload=payload, ButtonText=text, MessageType="button"))
        assert response.status_code == 200
        return replies(response)


# -- the renderer ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(CATALOG.languages))
def test_the_whole_menu_is_one_message(code):
    answer = WA.answer_text(Session(State.MENU), Profile(lang=code, country="UG"), "MENU")
    (message,) = answer.parts
    lang = CATALOG.language(code)
    assert all(f"{n} {t.label}" in message for n, t in enumerate(lang.topics, 1)) and len(message) <= 1600


@pytest.mark.parametrize("code", sorted(CATALOG.languages))
def test_every_key_message_comes_with_its_detail_in_one_message(code):
    lang = CATALOG.language(code)
    for topic in lang.topics:
        for i, m in enumerate(topic.messages):
            answer = WA.answer_text(Session(State.MESSAGE, topic=topic.id, index=max(i - 1, 0)), Profile(lang=code),
                                    str(i + 1))  # fmt: skip
            (message,) = answer.parts
            assert m.short in message and m.detail in message and len(message) <= 1600, (topic.id, m.id)
            assert answer.session.pending == ""
            if topic.is_discreet(m):
                assert topic.label not in message.split("\n")[0]  # a private topic is never named


def test_a_reply_longer_than_twilio_allows_waits_behind_more():
    lang = CATALOG.language("en")
    cut = WhatsAppRenderer().cut("word " * 500, lang)
    assert len(cut.parts) == 1 and len(cut.parts[0]) <= 1600 and cut.rest


# -- the webhook ----------------------------------------------------------------------------


def test_whatsapp_is_the_same_person_as_sms_and_remembers_the_channel(client, services):
    Phone(client, NUMBER).text("LANG FR")
    wa = WhatsAppPhone(client, NUMBER)
    (menu,) = wa.text("MENU")  # one message: the menu in the language chosen by SMS
    assert "10 Paludisme" in menu and "14 " in menu
    profile = services.store.profile_fields(NUMBER)
    assert last_channel(profile) == "whatsapp" and time.time() - whatsapp_in(profile) < 60
    (tip,) = wa.text("10")
    malaria = CATALOG.language("fr").topic("malaria").messages[0]
    assert malaria.short in tip and malaria.detail in tip
    Phone(client, NUMBER).text("MENU")
    assert last_channel(services.store.profile_fields(NUMBER)) == "sms"
    entries = [e for _, e in person_log(services.store, NUMBER) if e["direction"] == "in"]
    assert [e["channel"] for e in entries][:3] == ["sms", "whatsapp", "whatsapp"]


def test_a_tapped_button_navigates_with_its_payload(client):
    wa = WhatsAppPhone(client, NUMBER)
    wa.text("hi")
    wa.text("10")
    (next_tip,) = wa.tap("NEXT", "Next tip")
    assert CATALOG.language("en").topic("malaria").messages[1].short in next_tip


def test_stop_and_help_work_the_same_on_whatsapp(client, services):
    wa = WhatsAppPhone(client, NUMBER)
    assert "unsubscribed" in wa.text("STOP")[0]
    assert services.store.profile_fields(NUMBER)["opted_out"] == "1"
    assert wa.text("MENU") == []  # silence after STOP, as by SMS
    assert "Reply STOP" in wa.text("HELP")[0]
    assert "Welcome back" in wa.text("START")[0]


def test_a_forged_whatsapp_signature_is_refused_and_nothing_is_written(client, services):
    wa = WhatsAppPhone(client, NUMBER)
    form = wa.form("MENU")
    forged = sign(BASE_URL + "/sms/twilio", {**form, "Body": "x"})  # signed over another body
    response = client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": forged})
    assert response.status_code == 403 and services.store.profile_fields(NUMBER) == {}


# -- messages we start ----------------------------------------------------------------------


@pytest.fixture
def templated(tmp_path) -> Path:
    """messages/ with approved templates for English (tip and message) and none for French."""
    folder = tmp_path / "messages"
    shutil.copytree(ROOT / "messages", folder, ignore=shutil.ignore_patterns("audio"))
    (folder / "en" / "whatsapp.yaml").write_text(
        f"templates:\n  tip:\n    content_sid: {TIP_SID}\n    variables: [program, text]\n"
        f'    body: "Your tip from {{{{1}}}}: {{{{2}}}}"\n  message:\n    content_sid: {MESSAGE_SID}\n'
        "    variables: [text]\n",
        encoding="utf-8",
    )
    return folder


def on_whatsapp(services, phone: str, hours_ago: float, lang: str = "en") -> None:
    """A person who last wrote on WhatsApp `hours_ago` hours ago (the store's own fields)."""
    services.store.redis.hset(services.store.keys.profile(phone), mapping={
        "channel": "whatsapp", "wa_in": f"{time.time() - hours_ago * 3600:.3f}", "lang": lang})  # fmt: skip


@pytest.mark.parametrize(
    "hours_ago, lang, channel, content_sid",
    [(1, "en", "whatsapp", None), (30, "en", "whatsapp", TIP_SID), (30, "fr", "sms", None)],
)  # fmt: skip
def test_a_tip_goes_on_whatsapp_inside_the_window_as_a_template_outside_else_by_sms(
        make_services, templated, config, hours_ago, lang, channel, content_sid):  # fmt: skip
    svc = make_services(CONTENT_DIR=str(templated), TWILIO_WHATSAPP_FROM=SENDER)
    on_whatsapp(svc, NUMBER, hours_ago, lang)
    result = reach.deliver(svc, NUMBER, "Sleep under a net.", kind="subscription", meta={"topic": "malaria"})
    assert result.outcome.value == "sent"
    (sent,) = recorded(config)
    assert sent["channel"] == channel and sent.get("content_sid") == content_sid
    if content_sid:
        assert sent["variables"] == {"1": "Facts for Life", "2": "Sleep under a net."}


def test_without_a_whatsapp_sender_everyone_gets_sms(make_services, templated, config):
    svc = make_services(CONTENT_DIR=str(templated))
    on_whatsapp(svc, NUMBER, 1)
    reach.deliver(svc, NUMBER, "Sleep under a net.", kind="subscription")
    assert recorded(config)[0]["channel"] == "sms"


def test_an_answer_is_never_a_template(make_services, templated, config):
    svc = make_services(CONTENT_DIR=str(templated), TWILIO_WHATSAPP_FROM=SENDER)
    on_whatsapp(svc, NUMBER, 30)
    reach.deliver(svc, NUMBER, "Yes, keep breastfeeding.", kind="answer")
    assert recorded(config)[0]["channel"] == "sms"


def twilio_whatsapp(make_services, templated, api_url):
    return make_services(CONTENT_DIR=str(templated), TWILIO_WHATSAPP_FROM=SENDER, **twilio_settings(api_url))


def test_a_template_goes_through_the_real_client_with_content_sid_and_variables(make_services, templated):
    with FakeGateway(default=(201, twilio_message)) as api:
        svc = twilio_whatsapp(make_services, templated, api.url)
        on_whatsapp(svc, NUMBER, 30)
        reach.deliver(svc, NUMBER, "Sleep under a net.\nEvery night.", kind="subscription")
    (request,) = api.requests
    form = request["form"]
    assert form["To"] == f"whatsapp:{NUMBER}" and form["From"] == SENDER and form["ContentSid"] == TIP_SID
    assert "Body" not in form  # a template in Body fails with 63016
    assert json.loads(form["ContentVariables"]) == {"1": "Facts for Life", "2": "Sleep under a net. Every night."}


@pytest.mark.parametrize("code, channel_after", [(63003, "sms"), (63024, "sms"), (63027, "whatsapp"),
                                                 (63016, "whatsapp"), (63049, "whatsapp")])  # fmt: skip
def test_a_refusal_falls_back_to_sms_once_and_is_recorded(make_services, templated, services, code, channel_after):
    with FakeGateway([twilio_error(code)], default=(201, twilio_message)) as api:
        svc = twilio_whatsapp(make_services, templated, api.url)
        on_whatsapp(svc, NUMBER, 30)
        result = reach.deliver(svc, NUMBER, "Sleep under a net.", kind="subscription", meta={"topic": "malaria"})
    first, second = api.requests
    assert first["form"]["To"] == f"whatsapp:{NUMBER}"
    assert second["form"]["To"] == NUMBER and second["form"]["Body"] == "Sleep under a net."
    assert result.outcome.value == "sent"
    entries = [e for _, e in person_log(svc.store, NUMBER)]
    assert [(e["channel"], e["status"]) for e in entries] == [("sms", "sent"), ("whatsapp", "failed")]
    assert "sent by SMS instead" in entries[1]["reason"]
    assert last_channel(svc.store.profile_fields(NUMBER)) == channel_after


def test_an_sms_refusal_after_a_fallback_is_not_tried_again(make_services, templated):
    """Once: WhatsApp refused, then SMS refused too: two requests, no loop."""
    with FakeGateway([twilio_error(63003), twilio_error(21408)]) as api:
        svc = twilio_whatsapp(make_services, templated, api.url)
        on_whatsapp(svc, NUMBER, 30)
        result = reach.deliver(svc, NUMBER, "x", kind="subscription")
    assert len(api.requests) == 2 and result.outcome.value == "failed"


def test_a_broadcast_reaches_whatsapp_users_on_whatsapp(make_services, templated, config):
    from bot import broadcasts
    from bot.store import Broadcasts
    from tests.conftest import drain

    svc = make_services(CONTENT_DIR=str(templated), TWILIO_WHATSAPP_FROM=SENDER)
    village = ["+256700300001", "+256700300002"]
    svc.store.redis.sadd(svc.store.keys.group("village"), *village)
    svc.store.redis.sadd(svc.store.keys.groups(), "village")
    on_whatsapp(svc, village[0], 30)
    broadcast_id = broadcasts.create(svc, topic_id="malaria", number=1, groups=["village"], created_by="test")
    broadcasts.start(svc, broadcast_id)
    drain(svc)
    sent = {r["to"]: r for r in recorded(config)}
    assert sent[village[0]]["channel"] == "whatsapp" and sent[village[0]]["content_sid"] == TIP_SID
    assert sent[village[1]]["channel"] == "sms"
    assert broadcasts.figures(Broadcasts(svc.store).get(broadcast_id))["sent"] == 2


# -- templates in the content ---------------------------------------------------------------


def test_template_files_are_checked(templated):
    (templated / "fr" / "whatsapp.yaml").write_text(
        "templates:\n  tip:\n    content_sid: HX123\n    variables: [text]\n"
        "  reminder:\n    content_sid: ''\n    variables: [text]\n"
        "  message:\n    content_sid: " + MESSAGE_SID + "\n    variables: [text, program]\n    body: 'only {{1}}'\n",
        encoding="utf-8",
    )
    _, problems = content.check(templated)
    found = "\n".join(map(str, problems))
    assert "templates.tip: content_sid 'HX123' is not a Content SID" in found
    assert "templates.reminder: unknown template name" in found
    assert "templates.message: body has placeholders [1] but 2 variable(s)" in found


def test_the_shipped_templates_are_valid_and_wait_for_approval():
    assert all("whatsapp.yaml" not in str(p) for p in content.check(ROOT / "messages")[1])
    assert CATALOG.whatsapp == {"en": {}, "fr": {}, "hi": {}, "sw": {}}


def test_template_variables_never_hold_a_newline():
    assert Template("tip", TIP_SID, ("text",)).values(text="a\nb\tc") == {"1": "a b c"}
