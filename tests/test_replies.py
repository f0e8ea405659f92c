"""Replies sent through the queue (Africa's Talking SMS): one job per reply, parts in order, never lost.

Real RQ workers (a forking one and the in-process one) against the test's Redis.
"""

from __future__ import annotations

import pytest

from bot import jobs, services
from bot.store import Replies
from tests.conftest import drain, recorded, twilio_settings
from tests.fakes import FakeGateway, twilio_error, twilio_message
from tests.faults import NoQueueConnection, client

PHONE = "+256712345678"


def inbound(client_, message_id: str, text: str = "malaria"):
    form = {"from": PHONE, "to": "12345", "text": text, "date": "2026-12-01", "id": message_id, "linkId": ""}
    return client_.post("/sms/africastalking", data=form)


@pytest.fixture
def flaky_app(make_app, config):
    """The app with a Redis client that can fail every command on RQ's keys (the queue) while the rest works."""
    app = make_app()
    app.extensions["factsbot"] = services.build(app.config, client(config["REDIS_URL"], NoQueueConnection, 0))
    NoQueueConnection.down = False
    yield app
    NoQueueConnection.down = False
    app.extensions["factsbot"].store.redis.close()


def test_a_reply_that_could_not_be_queued_is_sent_after_the_redelivery(flaky_app, config):
    svc, web = flaky_app.extensions["factsbot"], flaky_app.test_client()
    NoQueueConnection.down = True
    assert inbound(web, "at-1").status_code == 503  # the conversation committed; queueing the reply failed
    NoQueueConnection.down = False
    assert recorded(config) == []
    assert inbound(web, "at-1").status_code == 200  # Africa's Talking delivers it again: a duplicate...
    parts, sent = Replies(svc.store).owed("sms", "at-at-1")
    assert len(parts) >= 2 and sent == 0  # ...whose reply is still owed
    jobs.Worker([svc.queue("replies")], services=svc).work(burst=True)  # a forking worker, as in production
    assert [s["body"] for s in recorded(config)] == list(parts)
    assert inbound(web, "at-1").status_code == 200  # and again, once it went out: nothing more
    drain(svc, "replies")
    assert len(recorded(config)) == len(parts)
    assert Replies(svc.store).owed("sms", "at-at-1")[1] == len(parts)


def test_a_reply_is_one_job_and_its_parts_go_in_order_when_one_is_retried(make_app):
    """The gateway asks us to retry the second part: it goes before the third, and the first is not resent."""
    with FakeGateway([(201, twilio_message), twilio_error(20429, 429)], default=(201, twilio_message)) as api:
        app = make_app(**twilio_settings(api.url), SEND_RETRY_SECONDS=0, SMS_MPS=0)
        svc = app.extensions["factsbot"]
        assert inbound(app.test_client(), "at-2").status_code == 200
        assert svc.queue("replies").count == 1
        parts, _ = Replies(svc.store).owed("sms", "at-at-2")
        drain(svc, "replies")
    bodies = [r["form"]["Body"] for r in api.requests]
    assert len(parts) >= 2 and bodies == [parts[0], parts[1], *parts[1:]]  # the 429'd part, then it again
    assert Replies(svc.store).owed("sms", "at-at-2")[1] == len(parts)
