"""Tips by phone call: choosing voice (SMS words, the voice line's key 5), placing calls through the real
`twilio` client and Africa's Talking's API against local stand-ins, quiet hours, the shared call rate,
signed status callbacks, outcomes, retries and the log."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from rq.registry import ScheduledJobRegistry

from bot import calls, subscriptions
from bot.dashboard import accounts
from bot.providers import Outcome
from bot.store.calls import CALL_TTL, Calls
from bot.store.log import LogEntry
from tests.conftest import BASE_URL, TWILIO_SID, Phone, drain, recorded, sign, twilio_settings
from tests.fakes import FakeGateway
from tests.storeview import keys_holding, log_entries
from tests.test_dashboard import FAST_HASH, PASSWORD, Dashboard
from tests.test_voice import CALLERS, TwilioCall, plain, voiced  # noqa: F401 (fixtures)

PHONE = CALLERS["en"]
VOICE = {"VOICE_ENABLED": True, "QUIET_HOURS": "0-0"}  # calls at any hour unless a test says otherwise


@pytest.fixture
def app(make_app, voiced):  # noqa: F811 (this module's app: voice on, every clip playable)
    return make_app(**VOICE, CONTENT_DIR=str(voiced))


@pytest.fixture
def svc(app):
    return app.extensions["factsbot"]


def twilio_call(form: dict) -> dict:
    return {"sid": "CA" + "f" * 32, "status": "queued", "to": form.get("To")}


def status(client, form: dict, path: str = "/voice/twilio/status", signature: str | None = None):
    headers = {"X-Twilio-Signature": signature if signature is not None else sign(BASE_URL + path, form)}
    return client.post(path, data=urlencode(form), content_type="application/x-www-form-urlencoded",
                       headers=headers)  # fmt: skip


def subscribe_by_voice(client, number: str = PHONE) -> Phone:
    phone = Phone(client, number)
    phone.text("VOICE")
    phone.text("JOIN MALARIA")
    return phone


def due_tick(svc) -> int:
    """A subscription tick two hours on: every new subscription's first tip is due."""
    return subscriptions.tick(svc, datetime.now(timezone.utc) + timedelta(hours=2))


def calls_recorded(config) -> list[dict]:
    return [line for line in recorded(config) if line.get("kind") == "call"]


# -- choosing voice ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, word, off",
    [(CALLERS["en"], "VOICE", "VOICE OFF"), (CALLERS["en"], "call me", "SMS"), (CALLERS["fr"], "VOIX", "VOIX NON"),
     (CALLERS["sw"], "SAUTI", "SMS"), (CALLERS["hi"], "आवाज़", "AWAAZ NAHI")],
)  # fmt: skip
def test_voice_by_sms_records_the_choice_and_sms_takes_it_back(app, svc, number, word, off):
    phone = Phone(app.test_client(), number)
    phone.text("hi")
    lang = svc.catalog.language(svc.store.profile_fields(number)["lang"])
    assert phone.text(word) == [lang.texts["voice_on"]]
    assert svc.store.profile_fields(number)["delivery"] == "voice"
    assert phone.text(off) == [lang.texts["voice_off"]]
    assert svc.store.profile_fields(number)["delivery"] == ""


def test_without_a_voice_line_voice_promises_nothing(make_app):
    app = make_app()  # VOICE_ENABLED false
    phone = Phone(app.test_client())
    reply = phone.text("VOICE")
    assert "call" not in " ".join(reply).lower()
    assert app.extensions["factsbot"].store.profile_fields(phone.number).get("delivery", "") == ""


def test_key_5_after_a_topic_subscribes_by_phone_call(app, svc):
    call = TwilioCall(app.test_client(), PHONE)
    call.press()
    call.press("1")  # the first topic
    for _ in svc.catalog.language("en").topics[0].messages:
        root = call.press("2")
    assert any("prompt-topic_end" in p for p in call.played(root))
    heard = call.played(call.press("5"))
    assert any("prompt-joined_call" in p for p in heard)
    profile = svc.store.profile_fields(PHONE)
    assert profile["delivery"] == "voice" and profile["subs"] == svc.catalog.language("en").topics[0].id


def test_key_5_on_a_key_message_subscribes_to_its_topic_by_phone_call(app, svc):
    call = TwilioCall(app.test_client(), PHONE)
    call.press()
    call.press("1")
    call.press("5")
    assert svc.store.profile_fields(PHONE)["delivery"] == "voice"


# -- placing calls -----------------------------------------------------------------------------------


def test_a_voice_subscriber_gets_a_call_with_the_tip_not_an_sms(app, svc):
    subscribe_by_voice(app.test_client())
    sms_before = [line for line in recorded(svc.config) if line.get("kind") != "call"]
    assert due_tick(svc) == 1
    (line,) = calls_recorded(svc.config)
    assert [line for line in recorded(svc.config) if line.get("kind") != "call"] == sms_before  # no SMS tip
    malaria = svc.catalog.language("en").topic("malaria")
    first = malaria.messages[0]
    assert line["to"] == PHONE and line["topic"] == "malaria" and line["message"] == first.id
    assert [c["id"] for c in line["clips"]] == ["prompt-call_intro", "topic-malaria", first.id, f"{first.id}-detail",
                                                "prompt-call_end"]  # fmt: skip
    assert [c["text"] for c in line["clips"]][2:4] == [first.short, first.detail]
    assert all(c["url"].startswith(f"{BASE_URL}/audio/en/placeholder/") for c in line["clips"])
    record = Calls(svc.store).get(line["call_id"])
    assert record["phone"] == PHONE and record["status"] == "placed" and record["attempt"] == "1"
    (entry,) = [e for _, e in log_entries(svc.store) if e.get("channel") == "voice"]
    assert entry["direction"] == "out" and entry["message_id"] == line["call_id"] and first.short in entry["text"]


def test_no_call_to_someone_who_opted_out(app, svc):
    phone = subscribe_by_voice(app.test_client())
    phone.text("STOP")
    result = calls.place(svc, PHONE, "malaria", "malaria-1", kind="subscription")
    assert result.outcome is Outcome.OPTED_OUT and calls_recorded(svc.config) == []


def test_a_call_due_at_night_waits_for_the_morning(make_app, voiced):  # noqa: F811
    svc = make_app(VOICE_ENABLED=True, CONTENT_DIR=str(voiced), QUIET_HOURS="21-8").extensions["factsbot"]
    night = datetime(2026, 12, 1, 20, 30, tzinfo=timezone.utc)  # 23:30 in Kampala
    message = svc.catalog.language("en").topic("malaria").messages[0].id
    calls.place(svc, PHONE, "malaria", message, kind="subscription", now=night)
    assert calls_recorded(svc.config) == []
    (job_id,) = ScheduledJobRegistry(queue=svc.queue("replies")).get_job_ids()
    when = ScheduledJobRegistry(queue=svc.queue("replies")).get_scheduled_time(job_id)
    assert when.replace(tzinfo=timezone.utc) == datetime(2026, 12, 2, 5, 0, tzinfo=timezone.utc)  # 08:00 there


def test_calls_share_the_calls_per_second_limit(make_app, voiced):  # noqa: F811
    svc = make_app(**VOICE, CONTENT_DIR=str(voiced), VOICE_CPS=1).extensions["factsbot"]
    message = svc.catalog.language("en").topic("malaria").messages[0].id
    started = time.monotonic()
    for _ in range(3):
        calls.place(svc, PHONE, "malaria", message, kind="test")
    assert time.monotonic() - started >= 1.8  # one a second: the second and third waited
    assert len(calls_recorded(svc.config)) == 3


def test_twilio_places_the_call_through_the_real_client(make_app, voiced):  # noqa: F811
    with FakeGateway(default=(201, twilio_call)) as api:
        svc = make_app(**VOICE, CONTENT_DIR=str(voiced), **twilio_settings(api.url)).extensions["factsbot"]
        message = svc.catalog.language("en").topic("malaria").messages[0]
        result = calls.place(svc, PHONE, "malaria", message.id, kind="subscription")
    assert result.outcome is Outcome.SENT and result.provider_id == "CA" + "f" * 32
    (request,) = api.requests
    assert request["path"] == f"/2010-04-01/Accounts/{TWILIO_SID}/Calls.json"
    form = request["form"]
    assert form["To"] == PHONE and form["From"] == "+15005550006"
    assert form["StatusCallback"] == f"{BASE_URL}/voice/twilio/status" and form["StatusCallbackMethod"] == "POST"
    root = ElementTree.fromstring(form["Twiml"])
    plays = [v.text for v in root if v.tag == "Play"]
    assert any(p.endswith(f"/{message.id}.wav") for p in plays) and any(p.endswith("-detail.wav") for p in plays)
    redirect = root.find("Redirect")
    assert redirect.text == f"{BASE_URL}/voice/twilio/heard" and redirect.get("method") == "POST"
    assert Calls(svc.store).get(result.provider_id)["status"] == "placed"


def test_twilio_refusing_a_call_is_logged_and_a_429_is_retried(make_app, voiced):  # noqa: F811
    from bot import outbound
    from tests.fakes import twilio_error

    with FakeGateway([twilio_error(21211), twilio_error(20429, 429)]) as api:
        svc = make_app(**VOICE, CONTENT_DIR=str(voiced), **twilio_settings(api.url)).extensions["factsbot"]
        message = svc.catalog.language("en").topic("malaria").messages[0].id
        refused = calls.place(svc, PHONE, "malaria", message, kind="subscription")
        with pytest.raises(outbound.TransientSendError):
            calls.place(svc, PHONE, "malaria", message, kind="subscription")
    assert refused.outcome is Outcome.INVALID
    (entry,) = [e for _, e in log_entries(svc.store) if e.get("channel") == "voice"]
    assert entry["status"] == "invalid" and entry["reason"]


# -- outcomes ----------------------------------------------------------------------------------------


def placed(svc) -> str:
    message = svc.catalog.language("en").topic("malaria").messages[0].id
    return calls.place(svc, PHONE, "malaria", message, kind="subscription").provider_id


def twilio_status(sid: str, call_status: str, **extra) -> dict:
    return {"CallSid": sid, "AccountSid": TWILIO_SID, "CallStatus": call_status, "Direction": "outbound-api",
            "From": "+15005550006", "To": PHONE, **extra}  # fmt: skip


def test_status_callbacks_record_answered_heard_and_the_minutes_once(app, svc):
    client, sid = app.test_client(), placed(svc)
    assert status(client, twilio_status(sid, "ringing")).status_code == 204
    assert status(client, twilio_status(sid, "in-progress")).status_code == 204
    assert Calls(svc.store).get(sid)["status"] == "answered"
    hangup = status(client, twilio_status(sid, "in-progress"), path="/voice/twilio/heard")
    assert ElementTree.fromstring(hangup.data).find("Hangup") is not None
    for _ in range(2):  # Twilio may repeat a callback
        assert status(client, twilio_status(sid, "completed", CallDuration="63")).status_code == 204
    status(client, twilio_status(sid, "in-progress"))  # late and out of order: a final outcome stays
    record = Calls(svc.store).get(sid)
    assert record["status"] == "heard" and record["seconds"] == "63"
    (end,) = [e for _, e in log_entries(svc.store) if e.get("event") == "call_end"]
    assert end["status"] == "heard" and end["seconds"] == "63" and end["channel"] == "voice"
    assert end["phone"] == PHONE and end["topic"] == "malaria" and end["direction"] == "out"


def test_hanging_up_before_the_end_is_completed_not_heard(app, svc):
    client, sid = app.test_client(), placed(svc)
    status(client, twilio_status(sid, "completed", CallDuration="9"))
    assert Calls(svc.store).get(sid)["status"] == "completed"


@pytest.mark.parametrize("path", ["/voice/twilio/status", "/voice/twilio/heard"])
def test_forged_status_callbacks_are_refused_and_change_nothing(app, svc, path):
    client, sid = app.test_client(), placed(svc)
    form = twilio_status(sid, "completed", CallDuration="63")
    assert status(client, form, path=path, signature="forged").status_code == 403
    assert status(client, form, path=path, signature=sign(BASE_URL + path, form, token="wrong")).status_code == 403
    assert Calls(svc.store).get(sid)["status"] == "placed"
    assert [e for _, e in log_entries(svc.store) if e.get("event") == "call_end"] == []


def test_busy_and_no_answer_are_tried_twice_more_then_given_up(make_app, voiced):  # noqa: F811
    app = make_app(**VOICE, CONTENT_DIR=str(voiced), VOICE_RETRY_SECONDS=0)
    svc, client = app.extensions["factsbot"], app.test_client()
    sid = placed(svc)
    for outcome in ("busy", "no-answer", "busy"):
        status(client, twilio_status(sid, outcome))
        drain(svc, "replies")
        sid = calls_recorded(svc.config)[-1]["call_id"]
    lines = calls_recorded(svc.config)
    assert [line["attempt"] for line in lines] == ["1", "2", "3"]  # the third busy is the last try
    assert Calls(svc.store).get(sid)["status"] == "busy"


def test_a_retry_waits_an_hour(app, svc):
    sid = placed(svc)
    status(app.test_client(), twilio_status(sid, "no-answer"))
    registry = ScheduledJobRegistry(queue=svc.queue("replies"))
    (job_id,) = registry.get_job_ids()
    wait = registry.get_scheduled_time(job_id).replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)
    assert timedelta(minutes=59) < wait <= timedelta(hours=1)
    job = svc.queue("replies").fetch_job(job_id)
    assert job.func_name == "bot.calls.call_job" and job.args[-1] == 2


def test_a_call_to_the_line_counts_its_minutes_too(app, svc):
    form = {"CallSid": "CA" + "1" * 32, "AccountSid": TWILIO_SID, "CallStatus": "completed", "Direction": "inbound",
            "From": PHONE, "To": "+15005550006", "CallDuration": "125"}  # fmt: skip
    status(app.test_client(), form)
    (end,) = [e for _, e in log_entries(svc.store) if e.get("event") == "call_end"]
    assert end["direction"] == "in" and end["seconds"] == "125" and end["phone"] == PHONE


# -- Africa's Talking -------------------------------------------------------------------------------


def at_queued(form: dict) -> dict:
    return {"entries": [{"phoneNumber": form["to"], "status": "Queued", "sessionId": "ATVId_tip1"}],
            "errorMessage": "None"}  # fmt: skip


def test_africastalking_places_the_call_and_plays_the_tip_when_answered(make_app, voiced):  # noqa: F811
    settings = {"VOICE_PROVIDER": "africastalking", "AT_USERNAME": "factsbot", "AT_API_KEY": "key",
                "AT_VOICE_FROM": "+254711082000"}  # fmt: skip
    with FakeGateway(default=(201, at_queued)) as api:
        app = make_app(**VOICE, CONTENT_DIR=str(voiced), AT_VOICE_API_BASE=api.url, **settings)
        svc = app.extensions["factsbot"]
        message = svc.catalog.language("en").topic("malaria").messages[0]
        result = calls.place(svc, PHONE, "malaria", message.id, kind="subscription")
    assert result.provider_id == "ATVId_tip1"
    (request,) = api.requests
    assert request["path"] == "/call" and request["headers"]["apiKey"] == "key"
    assert request["form"] == {"username": "factsbot", "from": "+254711082000", "to": PHONE}
    client = app.test_client()
    form = {"isActive": "1", "sessionId": "ATVId_tip1", "direction": "Outbound", "callerNumber": PHONE,
            "destinationNumber": PHONE}  # fmt: skip
    root = ElementTree.fromstring(client.post("/voice/africastalking", data=form).data)
    plays = [v.get("url") for v in root if v.tag == "Play"]
    assert any(p.endswith(f"/{message.id}.wav") for p in plays) and root.find("GetDigits") is None
    heard_url = root.find("Redirect").text
    assert heard_url.endswith("?heard=1")
    client.post(heard_url.removeprefix(BASE_URL), data=form)
    client.post("/voice/africastalking", data={**form, "isActive": "0", "durationInSeconds": "48",
                                               "status": "Success", "hangupCause": "NORMAL_CLEARING"})  # fmt: skip
    record = Calls(svc.store).get("ATVId_tip1")
    assert record["status"] == "heard" and record["seconds"] == "48"


@pytest.mark.parametrize("cause, outcome", [("USER_BUSY", "busy"), ("NO_ANSWER", "no-answer"),
                                            ("UNALLOCATED_NUMBER", "failed")])  # fmt: skip
def test_africastalking_hangup_causes(app, svc, cause, outcome):
    message = svc.catalog.language("en").topic("malaria").messages[0].id
    calls.place(svc, PHONE, "malaria", message, kind="subscription")
    sid = calls_recorded(svc.config)[-1]["call_id"]
    app.test_client().post("/voice/africastalking", data={
        "isActive": "0", "sessionId": sid, "direction": "Outbound", "callerNumber": PHONE, "durationInSeconds": "0",
        "status": "Failed", "hangupCause": cause})  # fmt: skip
    assert Calls(svc.store).get(sid)["status"] == outcome


# -- operators -----------------------------------------------------------------------------------------


def test_the_overview_counts_calls_and_their_minutes(app, svc):
    client = app.test_client()
    sid = placed(svc)
    status(client, twilio_status(sid, "completed", CallDuration="75"))
    status(client, {"CallSid": "CA" + "2" * 32, "AccountSid": TWILIO_SID, "CallStatus": "completed",
                    "Direction": "inbound", "From": PHONE, "To": "+15005550006", "CallDuration": "105"})  # fmt: skip
    status(client, twilio_status(placed(svc), "busy"))
    accounts.create(svc.store, "viewer@example.org", "viewer", PASSWORD, by="test", method=FAST_HASH)
    page = Dashboard(client).as_role("viewer").get("/dashboard/").text
    calls_row = re.search(r">Calls</a>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r'class="num">(\d+)', calls_row) == ["3", "3", "3"]
    assert "2 answered" in calls_row
    minutes_row = re.search(r"<th>Call minutes</th>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r">(\d+)<", minutes_row) == ["3", "3", "3"]  # 75 s + 105 s


def test_the_simulator_plays_a_test_call_with_its_recordings_and_dials_nobody(app, svc):
    accounts.create(svc.store, "operator@example.org", "operator", PASSWORD, by="test", method=FAST_HASH)
    dash = Dashboard(app.test_client()).as_role("operator")
    message = svc.catalog.language("fr").topic("malaria").messages[0]
    page = dash.post("/dashboard/simulator/call", {"lang": "fr", "message": message.id}).text
    assert message.short.replace("'", "&#39;")[:30] in page
    assert f'src="/audio/fr/placeholder/{message.id}.wav"' in page
    assert calls_recorded(svc.config) == []  # no gateway was asked
    (entry,) = [e for _, e in log_entries(svc.store) if e.get("event") == "test_call"]
    assert entry["channel"] == "simulator" and entry["status"] == "simulated"


# -- FORGET -----------------------------------------------------------------------------------------


def test_forget_erases_their_call_records_and_leaves_another_callers(app, svc):
    other = "+256712345679"
    client = app.test_client()
    subscribe_by_voice(client)
    assert due_tick(svc) == 1  # a tip call placed to them: its record keeps their number for days
    (placed,) = calls_recorded(svc.config)
    theirs = {"CallSid": "CA" + "1" * 32, "AccountSid": TWILIO_SID, "CallStatus": "completed",
              "Direction": "inbound", "From": PHONE, "To": "+15005550006", "CallDuration": "30"}  # fmt: skip
    status(client, theirs)  # and a call of theirs to the line, recorded when it ended
    status(client, {**theirs, "CallSid": "CA" + "2" * 32, "From": other})
    keys, records = svc.store.keys, Calls(svc.store)
    assert records.get(placed["call_id"])["phone"] == PHONE and records.get("CA" + "1" * 32)["phone"] == PHONE
    assert {i.decode() for i in svc.store.redis.zrange(keys.call_index(PHONE), 0, -1)} == {placed["call_id"],
                                                                                           "CA" + "1" * 32}  # fmt: skip

    phone = Phone(client, PHONE)
    assert "YES" in phone.text("FORGET")[0]
    assert phone.text("YES") == [svc.catalog.language("en").texts["timed_forgotten"]]

    assert keys_holding(svc.store, PHONE) == []
    assert records.get(placed["call_id"]) == {} and records.get("CA" + "1" * 32) == {}
    assert records.get("CA" + "2" * 32)["phone"] == other
    assert [i.decode() for i in svc.store.redis.zrange(keys.call_index(other), 0, -1)] == ["CA" + "2" * 32]
    assert 0 < svc.store.redis.ttl(keys.call_index(other)) <= CALL_TTL


def test_a_call_index_drops_ids_whose_records_expired(svc):
    index = svc.store.keys.call_index(PHONE)
    svc.store.redis.zadd(index, {"CAgone": time.time() - 1, "CAstill": time.time() + 60})
    Calls(svc.store).ended("CAnew", "completed", 10, phone=PHONE)
    scores = {i.decode(): s for i, s in svc.store.redis.zrange(index, 0, -1, withscores=True)}
    assert set(scores) == {"CAstill", "CAnew"} and abs(scores["CAnew"] - (time.time() + CALL_TTL)) < 60
    assert Calls(svc.store).erase_person(PHONE) == 2 and not svc.store.redis.exists(index)


def test_a_call_that_ends_stays_indexed_as_long_as_its_record(svc):
    records, redis, index = Calls(svc.store), svc.store.redis, svc.store.keys.call_index(PHONE)
    call_id = "CA" + "4" * 32
    assert records.placed(call_id, {"kind": "subscription"}, [], LogEntry("out", "voice", PHONE, "a tip"))
    redis.zadd(index, {call_id: time.time() + 60}, xx=True)  # placed long ago: its first expiry is near
    records.ended(call_id, "completed", 30)  # its record now lives CALL_TTL from its end
    assert abs(redis.zscore(index, call_id) - (time.time() + CALL_TTL)) < 60
    assert CALL_TTL - 60 < redis.ttl(index) <= CALL_TTL and CALL_TTL - 60 < redis.ttl(svc.store.keys.call(call_id))
