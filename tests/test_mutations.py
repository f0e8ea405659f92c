"""Behaviour that one-line mutations used to break unnoticed (issue 10); bench/mutants.py applies each.

Each test names the mutation it catches. They go through the app, the jobs and the store's
public classes, and read Redis only to see what an operator would see (expiries, the log).
"""

from __future__ import annotations

import time
import unicodedata
from urllib.parse import urlencode

import pytest
from rq.registry import ScheduledJobRegistry

from bot import broadcasts, jobs, outbound
from bot.store import Broadcasts, Subscriptions
from tests.conftest import BASE_URL, Phone, drain, in_process_worker, queues, recorded, sign, twilio_settings
from tests.fakes import twilio_error

NUMBER = "+256712345678"


def logged(svc) -> list[dict[str, str]]:
    """Every entry of every Redis stream under this test's prefix (the message log), decoded."""
    r, entries = svc.store.redis, []
    for key in r.scan_iter(match=f"{svc.config['REDIS_PREFIX']}*", count=1000):
        if r.type(key) == b"stream":
            entries += [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in r.xrange(key)]
    return entries


# -- expiries --------------------------------------------------------------------------------


def test_a_message_id_is_forgotten_after_dedupe_seconds(make_app):
    """Mutation: the dedupe marker written without an expiry (kept for ever)."""
    app = make_app(DEDUPE_SECONDS=4321)
    svc, phone = app.extensions["factsbot"], Phone(app.test_client())
    phone.text("hi", sid="SMdedupe0001")
    ttl = svc.store.redis.ttl(svc.store.keys.dedupe("sms", "SMdedupe0001"))
    assert 4321 - 5 <= ttl <= 4321


def test_a_conversation_is_forgotten_after_session_idle_seconds(make_app):
    """Mutation: the session's idle expiry changed (or dropped)."""
    app = make_app(SESSION_IDLE_SECONDS=777)
    svc, phone = app.extensions["factsbot"], Phone(app.test_client())
    phone.text("malaria")
    ttl = svc.store.redis.ttl(svc.store.keys.session(phone.number))
    assert 777 - 5 <= ttl <= 777


# -- the log ---------------------------------------------------------------------------------


def test_control_characters_never_reach_the_log(services, phone):
    """Mutation: control characters kept in the logged inbound text."""
    phone.text("hi\x00 there\x07\x1b[31m\u200e\x7f\x9b")
    inbound = [e["text"] for e in logged(services) if e.get("direction") == "in"]
    assert inbound and all(inbound), "the inbound message was logged"
    for text in inbound:
        bad = [c for c in text if unicodedata.category(c)[0] == "C" and c not in "\n\t"]
        assert not bad, f"control characters logged: {bad!r}"
    assert any("hi" in t and "there" in t for t in inbound), "the readable text is kept"


# -- replies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("smart", [True, False])
def test_replies_are_smart_encoded_when_the_setting_says_so(make_app, smart):
    """Mutation: smart encoding switched off for replies (a curly quote makes the SMS UCS-2: half the room)."""
    app = make_app(SMART_ENCODING=smart, SUPPORT_CONTACT="Mama\u2019s clinic \u2013 ask for \u201cAnn\u201d")
    parts = Phone(app.test_client()).text("HELP")
    text = "\n".join(parts)
    if smart:
        assert "Mama's clinic" in text and not any(c in text for c in "\u2019\u2013\u201c\u201d")
    else:
        assert "Mama\u2019s clinic" in text


# -- USSD ------------------------------------------------------------------------------------


def ussd(client, session: str, text: str) -> str:
    response = client.post("/ussd/africastalking", data={"sessionId": session, "phoneNumber": NUMBER,
                                                          "serviceCode": "*384*1#", "text": text})  # fmt: skip
    assert response.status_code == 200, response.data
    return response.get_data(as_text=True)


def test_a_long_lost_ussd_path_is_not_replayed(client):
    """Mutation: no bound on the USSD replay length (any path, however long, is replayed screen by screen)."""
    cycle = ["0", "10", "2", "2", "2"]  # back to the menu, malaria, next, next, next: its 4th message
    short = ussd(client, "short", "*".join(["10", "2", "2", "2"]))  # its state lost: replayed from the start
    assert short.startswith("CON Malaria 4/4")
    # The same cycle 40 more times (200 choices): nobody typed that; the menu, not a replay.
    long = ussd(client, "long", "*".join(["10", "2", "2", "2"] + cycle * 40))
    assert long.startswith("CON") and "Choose a topic:" in long and "Malaria" not in long


# -- broadcasts ------------------------------------------------------------------------------


def test_a_second_start_keeps_the_first_audience(services, config):
    """Mutation: a second start() of a broadcast (a duplicated job) snapshots the audience again."""
    group = services.store.keys.group("village")
    first = [f"+2567001000{n}" for n in range(3)]
    services.store.redis.sadd(group, *first)
    bid = broadcasts.create(services, topic_id="malaria", number=1, groups=["village"], created_by="test")
    services.store.redis.sadd(group, "+256700100099")  # joins after sending started
    broadcasts.start(services, bid)
    drain(services)
    assert sorted(x["to"] for x in recorded(config)) == sorted(first)
    assert broadcasts.figures(Broadcasts(services.store).get(bid))["planned"] == len(first)


def report(client, sid: str, status: str):
    form = {"MessageSid": sid, "MessageStatus": status, "ErrorCode": "30003" if status == "failed" else ""}
    path = "/sms/twilio/status"
    return client.post(path, data=urlencode(form), content_type="application/x-www-form-urlencoded",
                       headers={"X-Twilio-Signature": sign(BASE_URL + path, form)})  # fmt: skip


def test_a_failed_message_later_delivered_moves_the_figures(make_app, twilio_api):
    """Mutation: a failed -> delivered report not moving the broadcast's figures."""
    app = make_app(**twilio_settings(twilio_api.url), BROADCAST_BATCH_SIZE=10)
    svc, client = app.extensions["factsbot"], app.test_client()
    svc.store.redis.sadd(svc.store.keys.group("g"), NUMBER)
    bid = broadcasts.create(svc, topic_id="malaria", number=1, groups=["g"], created_by="test")
    drain(svc)
    (sid,) = [e["message_id"] for e in logged(svc) if e.get("broadcast") == bid]

    def figures():
        f = broadcasts.figures(Broadcasts(svc.store).get(bid))
        return f["delivered"], f["undelivered"]

    assert report(client, sid, "failed").status_code < 300
    assert figures() == (0, 1)
    assert report(client, sid, "delivered").status_code < 300  # carriers do report this, late
    assert figures() == (1, 0)
    assert report(client, sid, "sent").status_code < 300  # a late non-final report changes nothing
    assert figures() == (1, 0)


# -- subscriptions ---------------------------------------------------------------------------


def test_two_ticks_that_saw_the_same_due_tip_claim_it_once(services, phone):
    """Mutation: the subscription claim without compare-and-set (both ticks send the tip)."""
    subscriptions = Subscriptions(services.store)
    later = time.time() + 400 * 86_400
    phone.text("JOIN MALARIA")
    if not subscriptions.due(later, 10):
        phone.text("YES")  # a confirmation step, where the language has one
    ((number, topic, due),) = subscriptions.due(later, 10)
    assert number == phone.number
    next_due = later + 7 * 86_400
    # Both ticks read the schedule before either claimed: the second must lose.
    assert subscriptions.claim(number, topic, due, next_due) >= 0
    assert subscriptions.claim(number, topic, due, next_due) == -1


# -- sending ---------------------------------------------------------------------------------


def scheduled_in(svc, job) -> float:
    """Seconds from now until RQ's scheduler runs the job's next attempt."""
    (queue,) = queues(svc, "replies")
    when = ScheduledJobRegistry(queue=queue).get_scheduled_time(job.id)
    return when.timestamp() - time.time()


def run_scheduled_now(svc, job) -> None:
    """Make a scheduled retry due at once (instead of waiting for it) and run it."""
    (queue,) = queues(svc, "replies")
    registry = ScheduledJobRegistry(queue=queue)
    svc.store.redis.zadd(registry.key, {job.id: time.time() - 1})
    one_burst(svc)


def one_burst(svc) -> None:
    """One pass of an in-process worker with its scheduler: runs what is due, leaves later retries waiting."""
    in_process_worker(svc, queues(svc, "replies")).work(burst=True, with_scheduler=True)


def test_a_send_the_gateway_refused_for_now_is_retried_later_and_later(make_services, twilio_api):
    """Mutation: retry backoff removed (every retry at once, hammering a gateway that said 429)."""
    svc = make_services(**twilio_settings(twilio_api.url), SEND_RETRY_SECONDS=10, SEND_MAX_ATTEMPTS=4)
    twilio_api.default = twilio_error(20429, 429)
    jobs.enqueue_key_message(svc, NUMBER, "malaria", "malaria-1")
    (queue,) = queues(svc, "replies")
    (job,) = queue.get_jobs()
    one_burst(svc)
    waits = [scheduled_in(svc, job)]
    for _ in range(2):
        run_scheduled_now(svc, job)
        waits.append(scheduled_in(svc, job))
    assert len(twilio_api.requests) == 3
    for wait, expected in zip(waits, (10, 30, 90), strict=True):
        assert expected - 3 <= wait <= expected, waits


class Waited(Exception):
    """Raised by the fake clock: the sender asked to wait."""


def test_the_shared_rate_holds_sends_back(services, monkeypatch):
    """Mutation: the send throttle turned into a no-op (every send at once, whatever SMS_MPS says).

    A fake clock stands in for sleeping: it records how long the sender asks to wait and stops
    it there, so the rate is read from the waits asked for, not from a stopwatch.
    """
    asked: list[float] = []

    def fake_sleep(seconds: float) -> None:
        asked.append(seconds)
        raise Waited

    monkeypatch.setattr(time, "sleep", fake_sleep)
    mps, sent = 4, 0
    try:
        for n in range(10):
            outbound.deliver(services.store, services.provider, f"+2567002000{n:02d}", "one SMS", mps=mps,
                             kind="subscription")  # fmt: skip
            sent += 1
    except Waited:
        pass
    assert sent == mps, "a second's worth of SMS goes at once, and no more"
    assert len(asked) == 1 and 0.5 / mps <= asked[0] <= 1 / mps, "the next waits about 1/SMS_MPS seconds"


def test_no_rate_means_no_wait(services, monkeypatch):
    """SMS_MPS 0: no limit (the fake clock would stop any wait)."""
    monkeypatch.setattr(time, "sleep", lambda seconds: pytest.fail(f"asked to wait {seconds} s"))
    for n in range(20):
        outbound.deliver(services.store, services.provider, f"+2567003000{n:02d}", "one SMS", mps=0,
                         kind="subscription")  # fmt: skip
