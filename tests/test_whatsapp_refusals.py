"""WhatsApp refusals reported later: Twilio accepted a WhatsApp message, then its signed status callback
says it failed (63003 not on WhatsApp, 63016 template/window...): it goes by SMS, once, recorded.

Sends go through the real `twilio` client against the local imitation of Twilio's API; the
callbacks are signed as Twilio signs them; the fallback job runs on factsbot's worker.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from rq.registry import ScheduledJobRegistry

from bot import quiet, reach, timed
from bot.store.channels import last_channel
from bot.store.fallbacks import Fallbacks
from tests.conftest import BASE_URL, TWILIO_SID, Phone, drain, in_process_worker, sign, twilio_settings
from tests.fakes import FakeGateway, twilio_message
from tests.storeview import person_log
from tests.test_whatsapp import MESSAGE_SID, SENDER, TIP_SID, on_whatsapp, templated  # noqa: F401 (fixture)

NUMBER = "+256712345670"  # Uganda: English
PATH = "/sms/twilio/status"
TEXT = "Sleep under a net."


def callback(client, sid: str, status: str, code: str = "", signature: str | None = None, to: str = NUMBER):
    form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": TWILIO_SID, "MessageStatus": status,
            "From": f"whatsapp:{SENDER.removeprefix('whatsapp:')}", "To": f"whatsapp:{to}", "ChannelPrefix": "whatsapp",
            "ApiVersion": "2010-04-01", **({"ErrorCode": code} if code else {})}  # fmt: skip
    headers = {"X-Twilio-Signature": signature if signature is not None else sign(BASE_URL + PATH, form)}
    return client.post(PATH, data=urlencode(form), content_type="application/x-www-form-urlencoded", headers=headers)


@pytest.fixture
def api():
    with FakeGateway(default=(201, twilio_message)) as gateway:
        yield gateway


@pytest.fixture
def app(make_app, templated, api):  # noqa: F811
    return make_app(CONTENT_DIR=str(templated), TWILIO_WHATSAPP_FROM=SENDER, QUIET_HOURS="0-0",
                    **twilio_settings(api.url))  # fmt: skip


@pytest.fixture
def svc(app):
    return app.extensions["factsbot"]


def accepted(svc, hours_ago: float = 30, kind: str = "subscription") -> str:
    """A tip Twilio accepted on WhatsApp (a template outside the window): its message SID."""
    on_whatsapp(svc, NUMBER, hours_ago)
    result = reach.deliver(svc, NUMBER, TEXT, kind=kind, meta={"topic": "malaria", "message": "malaria-1"})
    assert result.outcome.value == "sent" and result.provider_id.startswith("SM")
    return result.provider_id


@pytest.mark.parametrize("code, channel_after", [("63016", "whatsapp"), ("63003", "sms"), ("63049", "whatsapp")])
def test_a_refusal_reported_later_sends_the_message_by_sms_once_and_records_it(app, svc, api, code, channel_after):
    sid = accepted(svc)
    client = app.test_client()
    assert callback(client, sid, "sent").status_code == 204
    assert callback(client, sid, "failed", code).status_code == 204
    drain(svc, "replies")
    first, second = api.requests
    assert first["form"]["To"] == f"whatsapp:{NUMBER}" and first["form"]["ContentSid"] == TIP_SID
    assert second["form"]["To"] == NUMBER and second["form"]["Body"] == TEXT
    for status in ("undelivered", "failed"):  # Twilio repeats and follows up: no second SMS
        assert callback(client, sid, status, code).status_code == 204
        drain(svc, "replies")
    assert len(api.requests) == 2
    entries = [e for _, e in person_log(svc.store, NUMBER)]
    refused = [e for e in entries if e["channel"] == "whatsapp" and e.get("status") == "failed"]
    sms = [e for e in entries if e["channel"] == "sms"]
    assert len(refused) == 1 and len(sms) == 1
    assert refused[0]["message_id"] == sid and refused[0]["reason"].endswith("; sent by SMS instead")
    assert sms[0]["status"] == "sent" and sms[0]["message"] == "malaria-1" and sms[0]["event"] == "subscription"
    assert Fallbacks(svc.store).get(sid)["sms"].startswith("sent SM")
    assert last_channel(svc.store.profile_fields(NUMBER)) == channel_after


def test_a_forged_status_callback_is_refused_and_sends_nothing(app, svc, api):
    sid = accepted(svc)
    client = app.test_client()
    assert callback(client, sid, "failed", "63016", signature="forged").status_code == 403
    form = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "63016"}
    wrong = sign(BASE_URL + PATH, form, token="another-account's-token")
    assert client.post(PATH, data=form, headers={"X-Twilio-Signature": wrong}).status_code == 403
    assert len(svc.queue("replies")) == 0
    drain(svc, "replies")
    assert len(api.requests) == 1 and Fallbacks(svc.store).get(sid).get("claimed") is None


@pytest.mark.parametrize(
    "status, code",
    [("failed", "30008"), ("undelivered", "30003"), ("delivered", ""), ("read", "")],
)  # fmt: skip
def test_other_reports_of_a_whatsapp_message_send_no_sms(app, svc, api, status, code):
    sid = accepted(svc)
    assert callback(app.test_client(), sid, status, code).status_code == 204
    drain(svc, "replies")
    assert len(api.requests) == 1


def test_an_sms_reported_with_a_whatsapp_code_is_not_sent_again(app, svc, api):
    result = reach.deliver(svc, NUMBER, TEXT, kind="subscription")  # an SMS user: no WhatsApp record
    assert api.requests[0]["form"]["To"] == NUMBER
    callback(app.test_client(), result.provider_id, "failed", "63016")
    drain(svc, "replies")
    assert len(api.requests) == 1


def test_a_whatsapp_message_refused_at_once_is_not_sent_again_by_a_late_report(app, svc, api):
    from tests.fakes import twilio_error

    api.replies.append(twilio_error(63003))  # refused in the API's answer: SMS at once
    on_whatsapp(svc, NUMBER, 30)
    result = reach.deliver(svc, NUMBER, TEXT, kind="subscription")
    assert len(api.requests) == 2 and result.provider_id
    callback(app.test_client(), result.provider_id, "failed", "63003")  # whatever a report says of the SMS
    drain(svc, "replies")
    assert len(api.requests) == 2


def test_a_refusal_reported_at_night_sends_the_sms_in_the_morning(make_app, templated, api):  # noqa: F811
    hour = datetime.now(quiet.timezone_for(NUMBER)).hour
    hours = f"{hour}-{(hour + 2) % 24}"  # quiet now where they live
    app = make_app(CONTENT_DIR=str(templated), TWILIO_WHATSAPP_FROM=SENDER, QUIET_HOURS=hours,
                   **twilio_settings(api.url))  # fmt: skip
    svc = app.extensions["factsbot"]
    sid = accepted(svc)
    callback(app.test_client(), sid, "undelivered", "63016")
    in_process_worker(svc, [svc.queue("replies")]).work(burst=True)  # the job runs now, and waits
    assert len(api.requests) == 1
    registry = ScheduledJobRegistry(queue=svc.queue("replies"))
    (job_id,) = registry.get_job_ids()
    when = registry.get_scheduled_time(job_id).replace(tzinfo=timezone.utc)
    assert timedelta(hours=1) < when - datetime.now(timezone.utc) <= timedelta(hours=2)
    assert Fallbacks(svc.store).get(sid).get("claimed") is None  # given back: the morning's job claims it


def test_a_timed_reminder_refused_later_goes_by_sms_once(app, svc, api):
    sms = Phone(app.test_client(), NUMBER)
    today = timed.today_for(svc, NUMBER)
    sms.text(f"BABY {today:%d-%m-%Y}")
    on_whatsapp(svc, NUMBER, 30)
    timed.tick(svc, now=datetime.now(timezone.utc))
    drain(svc, "bulk")
    (template,) = api.requests
    assert template["form"]["ContentSid"] == MESSAGE_SID
    sid = [e for _, e in person_log(svc.store, NUMBER) if e.get("event") == "timed"][0]["message_id"]
    callback(app.test_client(), sid, "failed", "63016")
    drain(svc, "replies")
    reminder = svc.catalog.language("en").texts["reminder_vaccines_birth"]
    assert api.requests[1]["form"] == {**api.requests[1]["form"], "To": NUMBER, "Body": reminder}
    timed.send_batch(svc, [NUMBER], datetime.now(timezone.utc).timestamp())  # claimed once: nothing again
    drain(svc, "bulk")
    assert len(api.requests) == 2


def test_who_replied_stop_meanwhile_gets_no_sms(app, svc, api):
    sid = accepted(svc)
    Phone(app.test_client(), NUMBER).text("STOP")
    callback(app.test_client(), sid, "failed", "63003")
    drain(svc, "replies")
    assert len(api.requests) == 1
    (refused,) = [e for _, e in person_log(svc.store, NUMBER) if e.get("status") == "failed"]
    assert "not sent by SMS either" in refused["reason"]
