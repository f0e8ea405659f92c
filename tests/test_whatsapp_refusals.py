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
from tests.conftest import BASE_URL, TWILIO_SID, Phone, drain, in_process_worker, sign
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
def app(make_whatsapp_app):
    return make_whatsapp_app()


def accepted(svc, hours_ago: float = 30, kind: str = "subscription") -> str:
    """A tip Twilio accepted on WhatsApp (a template outside the window): its message SID."""
    on_whatsapp(svc, NUMBER, hours_ago)
    result = reach.deliver(svc, NUMBER, TEXT, kind=kind, meta={"topic": "malaria", "message": "malaria-1"})
    assert result.outcome.value == "sent" and result.provider_id.startswith("SM")
    return result.provider_id


@pytest.mark.parametrize("code, channel_after", [("63016", "whatsapp"), ("63003", "sms"), ("63049", "whatsapp")])
def test_a_refusal_reported_later_sends_the_message_by_sms_once_and_records_it(
    app, services, twilio_api, code, channel_after
):
    sid = accepted(services)
    client = app.test_client()
    assert callback(client, sid, "sent").status_code == 204
    assert callback(client, sid, "failed", code).status_code == 204
    drain(services, "replies")
    first, second = twilio_api.requests
    assert first["form"]["To"] == f"whatsapp:{NUMBER}" and first["form"]["ContentSid"] == TIP_SID
    assert second["form"]["To"] == NUMBER and second["form"]["Body"] == TEXT
    for status in ("undelivered", "failed"):  # Twilio repeats and follows up: no second SMS
        assert callback(client, sid, status, code).status_code == 204
        drain(services, "replies")
    assert len(twilio_api.requests) == 2
    entries = [e for _, e in person_log(services.store, NUMBER)]
    refused = [e for e in entries if e["channel"] == "whatsapp" and e.get("status") == "failed"]
    sms = [e for e in entries if e["channel"] == "sms"]
    assert len(refused) == 1 and len(sms) == 1
    assert refused[0]["message_id"] == sid and refused[0]["reason"].endswith("; sent by SMS instead")
    assert sms[0]["status"] == "sent" and sms[0]["message"] == "malaria-1" and sms[0]["event"] == "subscription"
    assert Fallbacks(services.store).get(sid)["sms"].startswith("sent SM")
    assert last_channel(services.store.profile_fields(NUMBER)) == channel_after


def test_a_forged_status_callback_is_refused_and_sends_nothing(app, services, twilio_api):
    sid = accepted(services)
    client = app.test_client()
    assert callback(client, sid, "failed", "63016", signature="forged").status_code == 403
    form = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "63016"}
    wrong = sign(BASE_URL + PATH, form, token="another-account's-token")
    assert client.post(PATH, data=form, headers={"X-Twilio-Signature": wrong}).status_code == 403
    assert len(services.queue("replies")) == 0
    drain(services, "replies")
    assert len(twilio_api.requests) == 1 and Fallbacks(services.store).get(sid).get("claimed") is None


@pytest.mark.parametrize(
    "status, code",
    [("failed", "30008"), ("undelivered", "30003"), ("delivered", ""), ("read", "")],
)  # fmt: skip
def test_other_reports_of_a_whatsapp_message_send_no_sms(app, services, twilio_api, status, code):
    sid = accepted(services)
    assert callback(app.test_client(), sid, status, code).status_code == 204
    drain(services, "replies")
    assert len(twilio_api.requests) == 1


def test_an_sms_reported_with_a_whatsapp_code_is_not_sent_again(app, services, twilio_api):
    result = reach.deliver(services, NUMBER, TEXT, kind="subscription")  # an SMS user: no WhatsApp record
    assert twilio_api.requests[0]["form"]["To"] == NUMBER
    callback(app.test_client(), result.provider_id, "failed", "63016")
    drain(services, "replies")
    assert len(twilio_api.requests) == 1


def test_a_whatsapp_message_refused_at_once_is_not_sent_again_by_a_late_report(app, services, twilio_api):
    from tests.fakes import twilio_error

    twilio_api.replies.append(twilio_error(63003))  # refused in the API's answer: SMS at once
    on_whatsapp(services, NUMBER, 30)
    result = reach.deliver(services, NUMBER, TEXT, kind="subscription")
    assert len(twilio_api.requests) == 2 and result.provider_id
    callback(app.test_client(), result.provider_id, "failed", "63003")  # whatever a report says of the SMS
    drain(services, "replies")
    assert len(twilio_api.requests) == 2


def test_a_refusal_reported_at_night_sends_the_sms_in_the_morning(make_whatsapp_app, twilio_api):
    hour = datetime.now(quiet.timezone_for(NUMBER)).hour
    hours = f"{hour}-{(hour + 2) % 24}"  # quiet now where they live
    app = make_whatsapp_app(QUIET_HOURS=hours)
    svc = app.extensions["factsbot"]
    sid = accepted(svc)
    callback(app.test_client(), sid, "undelivered", "63016")
    in_process_worker(svc, [svc.queue("replies")]).work(burst=True)  # the job runs now, and waits
    assert len(twilio_api.requests) == 1
    registry = ScheduledJobRegistry(queue=svc.queue("replies"))
    (job_id,) = registry.get_job_ids()
    when = registry.get_scheduled_time(job_id).replace(tzinfo=timezone.utc)
    assert timedelta(hours=1) < when - datetime.now(timezone.utc) <= timedelta(hours=2)
    assert Fallbacks(svc.store).get(sid).get("claimed") is None  # given back: the morning's job claims it


def test_a_timed_reminder_refused_later_goes_by_sms_once(app, services, twilio_api):
    sms = Phone(app.test_client(), NUMBER)
    today = timed.today_for(services, NUMBER)
    sms.text(f"BABY {today:%d-%m-%Y}")
    on_whatsapp(services, NUMBER, 30)
    timed.tick(services, now=datetime.now(timezone.utc))
    drain(services, "bulk")
    (template,) = twilio_api.requests
    assert template["form"]["ContentSid"] == MESSAGE_SID
    sid = [e for _, e in person_log(services.store, NUMBER) if e.get("event") == "timed"][0]["message_id"]
    callback(app.test_client(), sid, "failed", "63016")
    drain(services, "replies")
    reminder = services.catalog.language("en").texts["reminder_vaccines_birth"]
    assert twilio_api.requests[1]["form"] == {**twilio_api.requests[1]["form"], "To": NUMBER, "Body": reminder}
    timed.send_batch(services, [NUMBER], datetime.now(timezone.utc).timestamp())  # claimed once: nothing again
    drain(services, "bulk")
    assert len(twilio_api.requests) == 2


def test_who_replied_stop_meanwhile_gets_no_sms(app, services, twilio_api):
    sid = accepted(services)
    Phone(app.test_client(), NUMBER).text("STOP")
    callback(app.test_client(), sid, "failed", "63003")
    drain(services, "replies")
    assert len(twilio_api.requests) == 1
    (refused,) = [e for _, e in person_log(services.store, NUMBER) if e.get("status") == "failed"]
    assert "not sent by SMS either" in refused["reason"]
