"""Delivery reports (Twilio status callbacks, Africa's Talking reports) and Africa's Talking inbound SMS."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from bot.store import LogEntry, Sends
from tests.conftest import BASE_URL, drain, recorded, sign
from tests.storeview import person_log, sent_fields

PHONE = "+256712345678"
SID = "SM" + "a" * 32


def status(client, form, path="/sms/twilio/status"):
    return client.post(path, data=urlencode(form), content_type="application/x-www-form-urlencoded",
                       headers={"X-Twilio-Signature": sign(BASE_URL + path, form)})  # fmt: skip


@pytest.fixture
def sent(services):
    Sends(services.store).record(PHONE, LogEntry("out", "sms", PHONE, "hi", "reply", status="sent"), SID)
    return services.store


@pytest.mark.parametrize(
    "sequence, final",
    [(["sent", "delivered"], "delivered"), (["delivered", "sent"], "delivered"),  # late non-final never wins
     (["sending", "undelivered", "sent"], "undelivered"), (["sent", "failed", "delivered"], "delivered"),
     (["queued", "sent", "sent"], "sent")],
)  # fmt: skip
def test_twilio_status_callbacks(client, sent, sequence, final):
    for value in sequence:
        assert status(client, {"MessageSid": SID, "MessageStatus": value, "ErrorCode": "30003"}).status_code == 204
    fields = sent_fields(sent, SID)
    assert fields["status"] == final
    if final == "undelivered":
        assert fields["reason"] == "the phone is switched off or unreachable"


def test_twilio_statuses_with_an_underscore_are_accepted(client, sent):
    assert status(client, {"MessageSid": SID, "MessageStatus": "partially_delivered"}).status_code == 204
    assert sent_fields(sent, SID)["status"] == "partially_delivered"


def test_delivery_reports_with_redis_down_ask_the_gateway_to_retry(config):
    from bot.app import create_app

    client = create_app({**config, "REDIS_URL": "redis://127.0.0.1:1/0"}).test_client()
    assert status(client, {"MessageSid": SID, "MessageStatus": "delivered"}).status_code == 503
    report = client.post("/sms/africastalking/delivery", data={"id": "ATXid_1", "status": "Success"})
    assert report.status_code == 503


def test_status_callbacks_must_be_signed(client, sent):
    form = {"MessageSid": SID, "MessageStatus": "failed"}
    assert client.post("/sms/twilio/status", data=form).status_code == 403
    assert sent_fields(sent, SID)["status"] == "sent"


def test_status_for_an_unknown_message_is_accepted_and_ignored(client, services):
    assert status(client, {"MessageSid": "SM" + "b" * 32, "MessageStatus": "delivered"}).status_code == 204
    assert sent_fields(services.store, "SM" + "b" * 32) == {}


@pytest.mark.parametrize(
    "form", [{"MessageSid": SID}, {"MessageStatus": "sent"}, {"MessageSid": "../x", "MessageStatus": "sent"}]
)
def test_malformed_status_callbacks_are_400(client, form):
    assert status(client, form).status_code == 400


def test_africastalking_delivery_reports(client, services):
    Sends(services.store).record(PHONE, LogEntry("out", "sms", PHONE, "hi", "reply", status="sent"), "ATXid_9")
    post = lambda **f: client.post("/sms/africastalking/delivery", data={"id": "ATXid_9", **f})  # noqa: E731
    assert post(status="Failed", failureReason="InsufficientCredit").status_code == 200
    assert post(status="Sent").status_code == 200  # late and not final: ignored
    fields = sent_fields(services.store, "ATXid_9")
    assert fields["status"] == "failed" and fields["reason"] == "InsufficientCredit"
    assert client.post("/sms/africastalking/delivery", data={"status": "Success"}).status_code == 400


def test_africastalking_inbound_sms_replies_through_the_queue(client, services, config):
    form = {"from": PHONE, "to": "12345", "text": "malaria", "date": "2026-11-28", "id": "abc-123", "linkId": ""}
    queue = services.queue("replies")
    assert client.post("/sms/africastalking", data=form).status_code == 200
    assert queue.count == 1  # one job for the whole reply
    assert client.post("/sms/africastalking", data=form).status_code == 200  # redelivered: deduped on id
    assert queue.count == 1
    drain(services, "replies")
    first, *rest = recorded(config)  # a first contact also learns how to change language
    assert first["to"] == PHONE and "Mosquitoes" in first["body"]
    assert "LANG" in " ".join(s["body"] for s in [first, *rest]) and {s["to"] for s in rest} <= {PHONE}


def test_africastalking_stop_is_confirmed_and_each_reply_sms_logged_once(client, services, config):
    form = {"from": PHONE, "to": "12345", "text": "STOP", "date": "2026-11-28", "id": "abc-stop", "linkId": ""}
    assert client.post("/sms/africastalking", data=form).status_code == 200
    drain(services, "replies")
    sent = [s["body"] for s in recorded(config)]
    assert sent and "unsubscribed" in sent[0], "the STOP confirmation reached the gateway"
    outbound = [e for _, e in person_log(services.store, PHONE) if e["direction"] == "out"]
    assert [e["text"] for e in outbound] == sent[::-1] and all(e["status"] == "sent" for e in outbound)


def test_africastalking_inbound_needs_id_and_from(client):
    assert client.post("/sms/africastalking", data={"text": "hi"}).status_code == 400
