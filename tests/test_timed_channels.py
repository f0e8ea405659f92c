"""Timed messages on the family's own way: WhatsApp (free text in the window, the language's template
outside it, SMS once when WhatsApp refuses) and phone calls for families who chose voice.

Each test registers a family by a signed SMS, then a scheduler tick at a time of its own and a
burst of factsbot's worker on the bulk queue (tests/test_timed.py's `run`), through the `record`
providers or the real `twilio` client against the local imitation of Twilio's API.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta, timezone
from xml.etree import ElementTree

import pytest

from bot import audio, content, timed
from bot.schedule import Series
from bot.settings import ROOT
from bot.store import Registrations
from bot.store.channels import last_channel
from tests.conftest import Phone, drain, recorded, twilio_settings
from tests.fakes import FakeGateway, twilio_error, twilio_message
from tests.storeview import person_log
from tests.test_calls import calls_recorded, status, twilio_status
from tests.test_timed import UGANDA, at, expected, plan, run
from tests.test_voice import plain, voiced  # noqa: F401 (fixtures)
from tests.test_whatsapp import MESSAGE_SID, SENDER, TIP_SID, on_whatsapp, templated  # noqa: F401 (fixture)

KENYA = "+254712345678"  # Kiswahili: no Twilio voice, recordings (or placeholders) only
CATALOG = content.load(ROOT / "messages")
WHATSAPP = {"QUIET_HOURS": "0-0"}  # the window is real time: these tests send now, whatever the hour


def register(app, phone: str = UGANDA, days_old: int = 3, *words: str) -> date:
    """A family registers a baby born `days_old` days ago by SMS (after `words`, e.g. VOICE); its today."""
    sms = Phone(app.test_client(), phone)
    for word in words:
        sms.text(word)
    svc = app.extensions["factsbot"]
    today = timed.today_for(svc, phone)
    sms.text(f"BABY {today - timedelta(days=days_old):%d-%m-%Y}")
    assert Registrations(svc.store).family(phone) != ""
    return today


def tick_now(svc) -> None:
    timed.tick(svc, now=datetime.now(timezone.utc))
    drain(svc, "bulk")


def bodies(svc, lang: str = "en") -> dict[str, str]:
    """What each timed message says in `lang` (message ids as the record provider writes them)."""
    texts = svc.catalog.language(lang)
    found = {f"reminder_{k.removeprefix('reminder_')}": v for k, v in texts.texts.items() if k.startswith("reminder_")}
    found |= {m.id: m.short for t in texts.topics for m in t.messages}
    return found


# -- WhatsApp ------------------------------------------------------------------------------------


def test_outside_the_window_each_timed_message_is_its_template_with_its_variables(make_app, templated):  # noqa: F811
    app = make_app(CONTENT_DIR=str(templated), TWILIO_WHATSAPP_FROM=SENDER, **WHATSAPP)
    svc = app.extensions["factsbot"]
    today = register(app)
    on_whatsapp(svc, UGANDA, 30)  # last wrote on WhatsApp yesterday: the window has closed
    got = run(svc, svc.config, UGANDA, today, 12)
    born = today - timedelta(days=3)
    assert got == expected(svc, plan(svc, Series.BABY, born, today), today + timedelta(days=11))
    says = bodies(svc)
    lines = [r for r in recorded(svc.config) if r["to"] == UGANDA]
    kinds = {r["message"].startswith("reminder_") for r in lines}
    assert kinds == {True, False}  # a reminder and a key message among them
    for r in lines:
        assert r["channel"] == "whatsapp"
        if r["message"].startswith("reminder_"):  # any other message: `message`, variables [text]
            assert r["content_sid"] == MESSAGE_SID and r["variables"] == {"1": says[r["message"]]}
        else:  # a key message: `tip`, variables [program, text]
            assert r["content_sid"] == TIP_SID and r["variables"] == {"1": "Facts for Life", "2": says[r["message"]]}
    out = [e for _, e in person_log(svc.store, UGANDA) if e["direction"] == "out" and e.get("event") == "timed"]
    assert len(out) == len(lines) and {e["channel"] for e in out} == {"whatsapp"}


def test_inside_the_window_a_timed_message_is_free_text_and_sms_families_keep_sms(make_app, templated):  # noqa: F811
    app = make_app(CONTENT_DIR=str(templated), TWILIO_WHATSAPP_FROM=SENDER, **WHATSAPP)
    svc = app.extensions["factsbot"]
    register(app)
    register(app, "+256712345679")  # writes by SMS only
    on_whatsapp(svc, UGANDA, 1)
    tick_now(svc)
    sent = {r["to"]: r for r in recorded(svc.config)}
    assert sent[UGANDA]["channel"] == "whatsapp" and "content_sid" not in sent[UGANDA]
    assert sent[UGANDA]["body"] == bodies(svc)[sent[UGANDA]["message"]]
    assert sent["+256712345679"]["channel"] == "sms"


def test_a_whatsapp_send_is_claimed_once_however_often_its_job_runs(make_app, templated):  # noqa: F811
    app = make_app(CONTENT_DIR=str(templated), TWILIO_WHATSAPP_FROM=SENDER, **WHATSAPP)
    svc = app.extensions["factsbot"]
    register(app, days_old=0)
    on_whatsapp(svc, UGANDA, 30)
    for _ in range(3):  # a retried job, a copy alongside it, a tick run again by hand
        timed.send_batch(svc, [UGANDA], time.time())
    assert [(r["channel"], r["message"]) for r in recorded(svc.config)] == [("whatsapp", "reminder_vaccines_birth")]


def twilio_app(make_app, templated, api):  # noqa: F811
    return make_app(CONTENT_DIR=str(templated), TWILIO_WHATSAPP_FROM=SENDER, **WHATSAPP, **twilio_settings(api.url))


def test_a_reminder_template_goes_through_the_real_client(make_app, templated):  # noqa: F811
    with FakeGateway(default=(201, twilio_message)) as api:
        app = twilio_app(make_app, templated, api)
        svc = app.extensions["factsbot"]
        register(app, days_old=0)
        on_whatsapp(svc, UGANDA, 30)
        tick_now(svc)
    (request,) = api.requests
    form = request["form"]
    assert form["To"] == f"whatsapp:{UGANDA}" and form["From"] == SENDER and form["ContentSid"] == MESSAGE_SID
    assert "Body" not in form
    text = " ".join(svc.catalog.language("en").texts["reminder_vaccines_birth"].split())
    assert json.loads(form["ContentVariables"]) == {"1": text}


@pytest.mark.parametrize("code, channel_after", [(63016, "whatsapp"), (63003, "sms")])
def test_a_refused_template_falls_back_to_sms_once_and_the_family_moves_on(make_app, templated, code,  # noqa: F811
                                                                           channel_after):  # fmt: skip
    with FakeGateway([twilio_error(code)], default=(201, twilio_message)) as api:
        app = twilio_app(make_app, templated, api)
        svc = app.extensions["factsbot"]
        today = register(app, days_old=0)
        on_whatsapp(svc, UGANDA, 30)
        tick_now(svc)
        first, second = api.requests
        assert first["form"]["ContentSid"] == MESSAGE_SID and second["form"]["To"] == UGANDA
        assert second["form"]["Body"] == svc.catalog.language("en").texts["reminder_vaccines_birth"]
        entries = [e for _, e in person_log(svc.store, UGANDA) if e.get("event") == "timed"]
        assert [(e["channel"], e["status"]) for e in entries] == [("sms", "sent"), ("whatsapp", "failed")]
        assert "sent by SMS instead" in entries[1]["reason"]
        assert last_channel(svc.store.profile_fields(UGANDA)) == channel_after
        for _ in range(2):  # the same day again: nothing more
            timed.send_batch(svc, [UGANDA], time.time())
        assert len(api.requests) == 2
        due = Registrations(svc.store).next_due(UGANDA)  # the next message, on the family's way
        assert due > at(today + timedelta(days=1), 0, UGANDA).timestamp()  # not today again
        timed.tick(svc, now=datetime.fromtimestamp(due, timezone.utc))
        drain(svc, "bulk")
    third = api.requests[2]["form"]
    assert third["To"] == (f"whatsapp:{UGANDA}" if channel_after == "whatsapp" else UGANDA)
    assert Registrations(svc.store).family(UGANDA) != ""


# -- voice -----------------------------------------------------------------------------------------


VOICE = {"VOICE_ENABLED": True, "QUIET_HOURS": "21-8"}


def test_a_family_who_chose_voice_gets_each_timed_message_as_a_call_one_a_day(make_app, voiced):  # noqa: F811
    app = make_app(**{**VOICE, "QUIET_HOURS": "0-0"}, CONTENT_DIR=str(voiced))
    svc = app.extensions["factsbot"]
    today = register(app, UGANDA, 3, "VOICE")
    got = run(svc, svc.config, UGANDA, today, 12)
    born = today - timedelta(days=3)
    want = expected(svc, plan(svc, Series.BABY, born, today), today + timedelta(days=11))
    assert got == want and len({d for d, _ in got}) == len(got)  # the plan, one a day
    lines = [r for r in recorded(svc.config) if r["to"] == UGANDA]
    assert lines == calls_recorded(svc.config)  # calls only: no SMS
    english = svc.catalog.language("en")
    for line in lines:
        ids = [c["id"] for c in line["clips"]]
        if line["message"].startswith("reminder_"):
            reminder = line["message"].removeprefix("reminder_")
            assert ids == ["prompt-call_intro", f"reminder-{reminder}", "prompt-call_end"]
            assert line["clips"][1]["text"] == english.texts[line["message"]]
            assert line["clips"][1]["url"].endswith(f"/audio/en/placeholder/reminder-{reminder}.wav")
        else:
            topic, message = english.message(line["message"])
            assert line["topic"] == topic.id and ids[2:4] == [message.id, f"{message.id}-detail"]
        assert line["purpose"] == "timed"
    assert {line["message"].startswith("reminder_") for line in lines} == {True, False}


def test_a_voice_family_is_never_called_at_night(make_app, voiced):  # noqa: F811
    app = make_app(**VOICE, CONTENT_DIR=str(voiced))
    svc = app.extensions["factsbot"]
    today = register(app, KENYA, 0, "SAUTI")
    timed.tick(svc, now=at(today, 22, KENYA))
    drain(svc, "bulk")
    assert calls_recorded(svc.config) == []
    timed.tick(svc, now=at(today + timedelta(days=1), 8, KENYA))
    drain(svc, "bulk")
    (line,) = calls_recorded(svc.config)
    assert line["message"] == "reminder_vaccines_birth"
    clip = line["clips"][1]
    assert clip["id"] == "reminder-vaccines_birth" and clip["text"] == svc.catalog.language("sw").texts[
        "reminder_vaccines_birth"]  # fmt: skip
    assert clip["url"].endswith("/audio/sw/placeholder/reminder-vaccines_birth.wav")


def test_timed_calls_share_the_calls_per_second_limit(make_app, voiced):  # noqa: F811
    app = make_app(**{**VOICE, "QUIET_HOURS": "0-0"}, CONTENT_DIR=str(voiced), VOICE_CPS=1)
    svc = app.extensions["factsbot"]
    numbers = ["+256712345601", "+256712345602", "+256712345603"]
    for number in numbers:
        register(app, number, 0, "VOICE")
    started = time.monotonic()
    tick_now(svc)
    assert time.monotonic() - started >= 1.8  # one a second: the second and third waited
    assert sorted(line["to"] for line in calls_recorded(svc.config)) == numbers


def test_an_unanswered_reminder_call_is_tried_again_with_the_reminder(make_app, voiced):  # noqa: F811
    app = make_app(**{**VOICE, "QUIET_HOURS": "0-0"}, CONTENT_DIR=str(voiced), VOICE_RETRY_SECONDS=0)
    svc = app.extensions["factsbot"]
    register(app, UGANDA, 0, "VOICE")
    tick_now(svc)
    (first,) = calls_recorded(svc.config)
    status(app.test_client(), {**twilio_status(first["call_id"], "no-answer"), "To": UGANDA})
    drain(svc, "replies")
    second = calls_recorded(svc.config)[-1]
    assert second["attempt"] == "2" and second["message"] == first["message"] == "reminder_vaccines_birth"
    assert [c["id"] for c in second["clips"]] == [c["id"] for c in first["clips"]]


def test_a_reminder_call_through_twilio_speaks_english_where_nothing_is_recorded(make_app, plain):  # noqa: F811
    with FakeGateway(default=(201, lambda form: {"sid": "CA" + "e" * 32, "status": "queued"})) as api:
        app = make_app(**{**VOICE, "QUIET_HOURS": "0-0"}, CONTENT_DIR=str(plain), **twilio_settings(api.url))
        svc = app.extensions["factsbot"]
        register(app, UGANDA, 0, "VOICE")
        tick_now(svc)
    (request,) = api.requests
    assert request["path"].endswith("/Calls.json") and request["form"]["To"] == UGANDA
    says = [v for v in ElementTree.fromstring(request["form"]["Twiml"]) if v.tag == "Say"]
    reminder = " ".join(svc.catalog.language("en").texts["reminder_vaccines_birth"].split())
    assert any(reminder in " ".join((s.text or "").split()) and s.get("language") == "en-GB" for s in says)


# -- the clip catalogue ------------------------------------------------------------------------------


def test_every_reminder_is_a_clip_in_every_language(tmp_path):
    import shutil

    folder = tmp_path / "messages"
    shutil.copytree(ROOT / "messages", folder)
    english = CATALOG.language("en")
    reminders = {k.removeprefix("reminder_") for k in english.texts if k.startswith("reminder_")}
    rows = audio.status(CATALOG, folder)
    for code in CATALOG.languages:
        found = {r.id: r for r in rows if r.lang == code and r.id.startswith("reminder-")}
        assert set(found) == {f"reminder-{r}" for r in reminders}
        want = audio.State.MISSING if code == "sw" else audio.State.TTS  # Twilio speaks en, fr and hi
        assert {r.state for r in found.values()} == {want}
        assert found["reminder-vaccines_birth"].text == CATALOG.language(code).texts["reminder_vaccines_birth"]
    fake = audio.placeholder_root(folder) / "sw" / "reminder-vaccines_birth.wav"
    fake.parent.mkdir(parents=True)
    fake.write_bytes(b"RIFF")
    sw = {r.id: r for r in audio.status(CATALOG, folder, "sw")}
    assert sw["reminder-vaccines_birth"].state == audio.State.PLACEHOLDER
    problems = audio.check(CATALOG, folder)
    assert any(p.endswith("sw/audio/reminder-anc_first.mp3: no recording") for p in problems)
    assert any("reminder-vaccines_birth.mp3: no recording (only a placeholder)" in p for p in problems)
    assert not any("/en/audio/reminder-" in p or "/fr/audio/reminder-" in p for p in problems)
