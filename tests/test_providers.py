"""Outbound providers against local servers imitating the real APIs, through the real clients."""

from __future__ import annotations

import pytest

from bot import outbound, providers
from bot import services as services_
from bot.providers import Outcome
from bot.store import Sends
from tests.conftest import Phone, drain, recorded, twilio_settings
from tests.fakes import FakeGateway, at_reply, twilio_error, twilio_message
from tests.storeview import log_entries

PHONE = "+256712345678"


def twilio(config, url):
    return providers.from_config({**config, "SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
                                  "TWILIO_FROM": "+15005550006", "TWILIO_API_BASE": url})  # fmt: skip


def test_twilio_sends_through_the_real_client(config):
    with FakeGateway(default=(201, twilio_message)) as api:
        result = twilio(config, api.url).send(PHONE, "Sleep under a net.", {})
    assert result.outcome is Outcome.SENT and result.provider_id.startswith("SM")
    (request,) = api.requests
    assert request["path"] == f"/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
    assert request["form"] == {"To": PHONE, "Body": "Sleep under a net.", "From": "+15005550006",
                               "StatusCallback": "https://sms.example.org/sms/twilio/status"}  # fmt: skip
    assert request["headers"]["Authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    "reply, outcome",
    [(twilio_error(21610), Outcome.OPTED_OUT), (twilio_error(21211), Outcome.INVALID),
     (twilio_error(21614), Outcome.INVALID), (twilio_error(20429, 429), Outcome.RETRY),
     (twilio_error(20500, 500), Outcome.RETRY), (twilio_error(21408), Outcome.FAILED)],
)  # fmt: skip
def test_twilio_errors_are_classified(config, reply, outcome):
    with FakeGateway([reply]) as api:
        result = twilio(config, api.url).send(PHONE, "x", {})
    assert result.outcome is outcome and result.reason


def test_twilio_unreachable_is_a_retry(config):
    result = twilio(config, "http://127.0.0.1:1").send(PHONE, "x", {})
    assert result.outcome is Outcome.RETRY


def test_a_429_is_retried_by_rq_then_succeeds(make_services):
    """A real RQ job, enqueued by dotted path, against the fake API: 429 first, then 201."""
    from bot import jobs

    with FakeGateway([twilio_error(20429, 429)], default=(201, twilio_message)) as api:
        svc = make_services(**twilio_settings(api.url))
        queue = svc.queue("replies")
        job = queue.enqueue("bot.jobs.send_text", PHONE, "hello", "reply", retry=jobs.Retry(max=2, interval=0))
        drain(svc, "replies")  # the retry waits in the scheduled registry for a burst with the scheduler
        job.refresh()
    assert job.get_status() == "finished" and job.return_value() == "sent"
    assert len(api.requests) == 2


def test_21610_marks_the_person_opted_out_and_nothing_more_is_sent(config, services):
    with FakeGateway([twilio_error(21610)], default=(201, twilio_message)) as api:
        provider = twilio(config, api.url)
        first = outbound.deliver(services.store, provider, PHONE, "one", mps=100, kind="subscription")
        second = outbound.deliver(services.store, provider, PHONE, "two", mps=100, kind="subscription")
    assert first.outcome is Outcome.OPTED_OUT and second.outcome is Outcome.OPTED_OUT
    assert len(api.requests) == 1  # the second was stopped before reaching Twilio
    assert services.store.profile_fields(PHONE)["opted_out"] == "1"
    (entry,) = [f for _, f in log_entries(services.store) if f.get("status")]
    assert entry["status"] == "opted_out" and "STOP" in entry["reason"]


def test_a_number_a_gateway_called_invalid_is_not_tried_again_until_it_writes_to_us(config, services, client):
    with FakeGateway([twilio_error(21211)], default=(201, twilio_message)) as api:
        provider = twilio(config, api.url)
        first = outbound.deliver(services.store, provider, PHONE, "one", mps=100, kind="subscription")
        second = outbound.deliver(services.store, provider, PHONE, "two", mps=100, kind="subscription")
        assert first.outcome is Outcome.INVALID and second.outcome is Outcome.INVALID
        assert len(api.requests) == 1
        Phone(client, PHONE).text("hi")  # the number works after all
        third = outbound.deliver(services.store, provider, PHONE, "three", mps=100, kind="subscription")
    assert third.outcome is Outcome.SENT and len(api.requests) == 2


def at(config, url):
    return providers.from_config({**config, "SMS_PROVIDER": "africastalking", "AT_USERNAME": "sandbox",
                                  "AT_API_KEY": "key", "AT_API_BASE": url, "AT_SENDER_ID": "FACTS"})  # fmt: skip


@pytest.mark.parametrize(
    "reply, outcome",
    [(at_reply(101, "Success"), Outcome.SENT), (at_reply(406, "UserInBlacklist"), Outcome.OPTED_OUT),
     (at_reply(403, "InvalidPhoneNumber"), Outcome.INVALID), (at_reply(405, "InsufficientBalance"), Outcome.RETRY),
     (at_reply(409, "DoNotDisturbRejection"), Outcome.FAILED), ((500, {"error": "down"}), Outcome.RETRY),
     ((201, {"unexpected": True}), Outcome.FAILED)],
)  # fmt: skip
def test_africastalking_results_per_recipient(config, reply, outcome):
    with FakeGateway([reply]) as api:
        result = at(config, api.url).send(PHONE, "Wash hands with soap.", {})
    assert result.outcome is outcome
    (request,) = api.requests
    assert request["path"] == "/version1/messaging" and request["headers"]["apiKey"] == "key"
    assert request["form"] == {"username": "sandbox", "to": PHONE, "message": "Wash hands with soap.", "from": "FACTS"}


def test_record_provider_appends_json_lines(config):
    provider = providers.from_config(config)
    provider.send(PHONE, "one", {"broadcast_id": "b1"})
    provider.send(PHONE, "two", {})
    lines = recorded(config)
    assert [(x["to"], x["body"]) for x in lines] == [(PHONE, "one"), (PHONE, "two")]
    assert lines[0]["broadcast_id"] == "b1" and "time" in lines[0]


def test_console_provider_masks_the_number(capsys):
    from bot.providers.local import ConsoleProvider

    ConsoleProvider().send(PHONE, "hello", {})
    err = capsys.readouterr().err
    assert "hello" in err and PHONE not in err and "678" in err


def test_rate_limit_is_shared_and_counts_segments(services, config):
    one, other = Sends(services.store), Sends(services_.build(config).store)  # two workers' own connections
    assert one.take_tokens("test", 3, rate=3) == 0  # a 3-segment SMS empties a 3-a-second bucket
    wait = other.take_tokens("test", 3, rate=3)
    assert 0.5 < wait <= 1.0  # the other worker waits about a second, not the third of one 1 segment costs


def test_no_rate_limit_means_no_waiting(services):
    """SMS_MPS=0 switches the limit off; it must never wait (a zero rate would otherwise wait forever)."""
    from bot.providers.local import NullProvider

    provider = NullProvider()
    for n in range(5):
        result = outbound.deliver(services.store, provider, f"+25670000{n:04d}", "x" * 400, mps=0, kind="reply")
        assert result.outcome is Outcome.SENT
    assert services.store.redis.exists(services.store.keys.rate(provider.name)) == 0
