"""Broadcasts through RQ: audience, exclusions at send time, languages, pause/resume/cancel, retries."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot import broadcasts
from bot.store import Broadcasts, FieldWorkers
from bot.store.broadcasts import DETAIL_SECONDS
from tests.conftest import Phone, drain, in_process_worker, queues, recorded, twilio_settings
from tests.fakes import twilio_error, twilio_message
from tests.storeview import keys_holding, log_entries, sent_fields


def members(services, group, phones):
    services.store.redis.sadd(services.store.keys.group(group), *phones)


def run_workers(services):
    """One burst of an in-process worker: batches held for the morning stay scheduled."""
    in_process_worker(services, queues(services)).work(burst=True)


PHONES = [f"+2567000{n:05d}" for n in range(40)]


@pytest.fixture
def config(config):
    return {**config, "BROADCAST_BATCH_SIZE": 7, "SMS_MPS": 0}


def test_a_broadcast_reaches_every_member_once(services, config):
    members(services, "kisumu", PHONES)
    bid = broadcasts.create(services, topic_id="malaria", number=1, groups=["kisumu"], created_by="test")
    run_workers(services)
    sent = recorded(config)
    assert sorted(s["to"] for s in sent) == sorted(PHONES)
    assert all(s["broadcast_id"] == bid for s in sent)
    info = Broadcasts(services.store).get(bid)
    assert info["status"] == "done"
    f = broadcasts.figures(info)
    assert (f["planned"], f["sent"], f["unknown"]) == (40, 40, 0)
    # Each recipient's log index expires like any other (it used to be kept for ever).
    assert services.store.redis.pttl(services.store.keys.log_index(PHONES[0])) > 0
    # Running every batch again, as if the broadcast were still sending, sends nothing more:
    # the per-recipient claims, not the finished status, stop it.
    Broadcasts(services.store).update(bid, status="sending")
    broadcasts.enqueue_batches(services, bid, range(6), "-again")
    run_workers(services)
    assert len(recorded(config)) == 40
    assert broadcasts.figures(Broadcasts(services.store).get(bid))["sent"] == 40


def test_opt_outs_are_excluded_when_planned_and_again_before_each_send(services, config):
    members(services, "siaya", PHONES)
    services.store.redis.sadd(services.store.keys.optouts(), PHONES[0])  # opted out before
    bid = broadcasts.create(services, topic_id="malaria", number=2, groups=["siaya"], created_by="test")
    # Between planning and sending: one opts out, one leaves the group.
    services.store.redis.sadd(services.store.keys.optouts(), PHONES[10])
    services.store.redis.srem(services.store.keys.group("siaya"), PHONES[20])
    run_workers(services)
    sent = {s["to"] for s in recorded(config)}
    assert PHONES[0] not in sent and PHONES[10] not in sent and PHONES[20] not in sent
    f = broadcasts.figures(Broadcasts(services.store).get(bid))
    assert (f["planned"], f["sent"], f["excluded"]) == (39, 37, 3)


def test_each_recipient_gets_their_own_language(services, config):
    members(services, "mix", PHONES[:3])
    r = services.store.redis
    r.hset(services.store.keys.profile(PHONES[0]), "lang", "sw")
    r.hset(services.store.keys.profile(PHONES[1]), "lang", "fr")
    broadcasts.create(services, topic_id="malaria", number=1, groups=["mix"], created_by="test")
    run_workers(services)
    bodies = {s["to"]: s["body"] for s in recorded(config)}
    malaria = lambda code: services.catalog.language(code).topic("malaria").messages[0].short  # noqa: E731
    assert bodies == {PHONES[0]: malaria("sw"), PHONES[1]: malaria("fr"), PHONES[2]: malaria("en")}


def test_pause_resume_and_cancel(services, config):
    members(services, "g", PHONES)
    store = Broadcasts(services.store)
    bid = broadcasts.create(services, topic_id="hygiene", number=1, groups=["g"], created_by="test")
    assert broadcasts.pause(services, bid)
    run_workers(services)  # every batch sees "paused" and stops
    assert recorded(config) == [] and store.get(bid)["status"] == "paused"
    assert broadcasts.resume(services, bid)
    run_workers(services)
    assert len(recorded(config)) == 40 and store.get(bid)["status"] == "done"
    assert not broadcasts.cancel(services, bid)  # done is final
    other = broadcasts.create(services, topic_id="hygiene", number=2, groups=["g"], created_by="test")
    assert broadcasts.cancel(services, other)
    run_workers(services)
    assert len(recorded(config)) == 40 and store.get(other)["status"] == "cancelled"
    assert not broadcasts.resume(services, other)


def test_an_ended_broadcast_keeps_its_figures_and_lets_its_recipients_numbers_go(services, config):
    """The audience snapshot and recipients' states name every recipient: once sending is over they expire."""
    members(services, "g", PHONES)
    store, k, redis = Broadcasts(services.store), services.store.keys, services.store.redis
    done = broadcasts.create(services, topic_id="hygiene", number=1, groups=["g"], created_by="test")
    held = broadcasts.create(services, topic_id="hygiene", number=2, groups=["g"], created_by="test")
    assert broadcasts.pause(services, held)
    run_workers(services)
    assert store.get(done)["status"] == "done" and store.get(held)["status"] == "paused"
    details = lambda bid: (k.audience(bid), k.recipients(bid), k.batches_done(bid))  # noqa: E731
    assert all(0 < redis.ttl(key) <= DETAIL_SECONDS for key in details(done))
    assert broadcasts.figures(store.get(done))["sent"] == 40 and redis.ttl(k.broadcast(done)) == -1
    assert redis.ttl(k.audience(held)) == -1  # paused before its first claim: it may go on
    assert broadcasts.cancel(services, held)
    assert 0 < redis.ttl(k.audience(held)) <= DETAIL_SECONDS
    store.batch_done(done, 0)  # a batch's job run again after the end leaves nothing without an expiry
    assert all(0 < redis.ttl(key) <= DETAIL_SECONDS for key in details(done))


def test_forget_takes_them_out_of_ended_broadcasts_and_a_running_one_keeps_them_until_its_details_expire(
    services, config
):
    from bot import enrol

    gone, kept = PHONES[0], PHONES[1]
    members(services, "g", PHONES)
    store, k, redis = Broadcasts(services.store), services.store.keys, services.store.redis
    done = broadcasts.create(services, topic_id="hygiene", number=1, groups=["g"], created_by="test")
    cancelled = broadcasts.create(services, topic_id="hygiene", number=3, groups=["g"], created_by="test")
    held = broadcasts.create(services, topic_id="hygiene", number=2, groups=["g"], created_by="test")
    assert broadcasts.pause(services, held) and broadcasts.pause(services, cancelled)
    run_workers(services)
    assert broadcasts.cancel(services, cancelled)
    assert store.get(done)["status"] == "done" and store.get(held)["status"] == "paused"
    assert redis.hget(k.recipients(done), gone) == b"s"

    enrol.forget(services, gone)

    for bid in (done, cancelled):
        assert gone.encode() not in redis.lrange(k.audience(bid), 0, -1)
        assert redis.hget(k.recipients(bid), gone) is None
    assert redis.hget(k.recipients(done), kept) == b"s" and kept.encode() in redis.lrange(k.audience(done), 0, -1)
    # `members` puts numbers in the group without a profile naming it, so FORGET cannot know of that one.
    left = [key for key in keys_holding(services.store, gone) if key != k.group("g").encode()]
    assert left == [k.audience(held).encode()]  # paused: its slices must not move
    assert broadcasts.figures(store.get(done))["sent"] == 40
    assert store.erase_recipient(gone) == 0


def test_invalid_requests_are_refused_clearly(services):
    with pytest.raises(broadcasts.BroadcastError, match="key messages 1 to 4"):
        broadcasts.create(services, topic_id="malaria", number=9, groups=["g"], created_by="t")
    with pytest.raises(broadcasts.BroadcastError, match="no topic"):
        broadcasts.create(services, topic_id="nope", number=1, groups=["g"], created_by="t")


def test_an_empty_audience_finishes_at_once(services):
    bid = broadcasts.create(services, topic_id="malaria", number=1, groups=["nobody"], created_by="t")
    assert Broadcasts(services.store).get(bid)["status"] == "done"


def test_transient_errors_are_retried_and_permanent_ones_recorded(make_services, twilio_api):
    """Twilio answers 429 once, then 21610 for one person, 201 for the rest."""
    api = twilio_api
    api.replies = [twilio_error(20429, 429), (201, twilio_message), twilio_error(21610)]
    services = make_services(**twilio_settings(api.url), SEND_MAX_ATTEMPTS=3, SEND_RETRY_SECONDS=0)
    members(services, "g", PHONES[:5])
    bid = broadcasts.create(services, topic_id="malaria", number=1, groups=["g"], created_by="t")
    drain(services, "bulk")  # the retry is scheduled; bursts with the scheduler pick it up
    info = Broadcasts(services.store).get(bid)
    f = broadcasts.figures(info)
    assert (f["sent"], f["opted_out"], f["unknown"]) == (4, 1, 0) and info["status"] == "done"
    tos = [r["form"]["To"] for r in api.requests]
    assert len(tos) == 6 and len(set(tos)) == 5  # one retried after the 429, nobody twice after success
    assert tos.count(tos[0]) == 2, "the one sent twice is the one the 429 turned away"
    opted = next(p for p in PHONES[:5] if services.store.profile_fields(p).get("opted_out") == "1")
    assert services.store.redis.sismember(services.store.keys.optouts(), opted)


def test_delivery_reports_update_the_figures(make_app, twilio_api):
    from urllib.parse import urlencode

    from tests.conftest import BASE_URL, sign

    app = make_app(**twilio_settings(twilio_api.url))
    services, client = app.extensions["factsbot"], app.test_client()
    members(services, "g", PHONES[:2])
    bid = broadcasts.create(services, topic_id="malaria", number=1, groups=["g"], created_by="t")
    run_workers(services)
    first, second = (e["message_id"] for _, e in log_entries(services.store) if e.get("broadcast") == bid)
    form = {"MessageSid": first, "MessageStatus": "delivered"}
    path = "/sms/twilio/status"
    reported = client.post(path, data=urlencode(form), content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": sign(BASE_URL + path, form)})  # fmt: skip
    assert reported.status_code == 204 and first != second
    assert broadcasts.figures(Broadcasts(services.store).get(bid))["delivered"] == 1
    assert sent_fields(services.store, first)["status"] == "delivered"
    assert sent_fields(services.store, second)["status"] == "sent"


@pytest.mark.parametrize(
    "utc_hour, quiet_hours, waits_until_utc_hour",
    [(19, "21-8", 5), (4, "21-8", 5), (5, "21-8", None), (12, "21-8", None), (19, "0-0", None)],
)
def test_a_batch_waits_out_the_night_where_its_recipients_live(config, utc_hour, quiet_hours, waits_until_utc_hour):
    now = datetime(2026, 12, 1, utc_hour, 30, tzinfo=timezone.utc)  # Kampala is UTC+3
    later = broadcasts.quiet_until({**config, "BROADCAST_QUIET_HOURS": quiet_hours}, PHONES[0], now)
    assert (later.hour if later else None) == waits_until_utc_hour
    if later:
        assert later > now and later.astimezone(ZoneInfo("Africa/Kampala")).strftime("%H:%M") == "08:00"


def test_a_broadcast_started_at_night_is_held_until_morning_then_sent_once(make_services, config):
    # Quiet hours around this instant in Kampala, so the test holds at any hour CI runs; two hours
    # wide, so the clock turning an hour during the test changes nothing.
    local_hour = datetime.now(ZoneInfo("Africa/Kampala")).hour
    services = make_services(BROADCAST_QUIET_HOURS=f"{local_hour}-{(local_hour + 2) % 24}")
    members(services, "gulu", PHONES[:10])
    bid = broadcasts.create(services, topic_id="malaria", number=1, groups=["gulu"], created_by="test")
    run_workers(services)
    assert recorded(config) == [], "nobody is texted in the night"
    info = Broadcasts(services.store).get(bid)
    assert info["status"] == "sending" and "waiting for quiet hours to end" in broadcasts.describe(info)
    registry = services.queue("bulk").scheduled_job_registry
    held = registry.get_job_ids()
    assert len(held) == 2  # two batches of 7
    morning = datetime.fromtimestamp(int(info["quiet_until"]), timezone.utc).astimezone(ZoneInfo("Africa/Kampala"))
    assert morning.hour == (local_hour + 2) % 24 and morning.minute == 0

    # Morning: RQ's scheduler moves the held batches to the queue (done here by hand), twice over.
    services = make_services()  # the same deployment, its quiet hours over
    queue = services.queue("bulk")
    for job_id in held:
        job = queue.fetch_job(job_id)
        registry.remove(job)
        queue.enqueue_job(job)
    broadcasts.recover(services)  # a worker restarting in the night would queue them again too
    run_workers(services)
    sent = [s["to"] for s in recorded(config)]
    assert sorted(sent) == sorted(PHONES[:10])
    assert Broadcasts(services.store).get(bid)["status"] == "done"


def test_a_field_worker_is_told_when_a_night_broadcast_will_go(make_app):
    local_hour = datetime.now(ZoneInfo("Africa/Kampala")).hour
    app = make_app(BROADCAST_QUIET_HOURS=f"{local_hour}-{(local_hour + 2) % 24}")
    services, client = app.extensions["factsbot"], app.test_client()
    FieldWorkers(services.store).add("+256700000002", "Amina", ["gulu"])
    members(services, "gulu", PHONES[:3])
    worker = Phone(client, "+256700000002")
    worker.text("BC MALARIA 1 GULU")
    reply = worker.text("YES")[0]
    assert reply.startswith("It is quiet hours: sending starts at") and f"{(local_hour + 2) % 24:02d}:00" in reply
