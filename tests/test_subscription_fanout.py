"""Subscription tips fan out to the workers in batches (no cap per tick), each tip sent once however
often its job runs, a crashed job's tips due again when the lease ends, and replies before them."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from rq import Queue

from bot import subscriptions
from bot.store import Subscriptions
from tests.conftest import drain, recorded

# Noon in Kampala, tomorrow: a job uses the tick's time unless it starts later (then the real time).
NOON_UTC = datetime.combine(datetime.now(timezone.utc).date() + timedelta(days=1), time(9, 0), timezone.utc)


def subscribe(svc, count: int, due: datetime) -> list[str]:
    """`count` Ugandan numbers subscribed to malaria, each tip due at `due` (as JOIN leaves them)."""
    phones = [f"+2567010{i:05d}" for i in range(count)]
    keys = svc.store.keys
    svc.store.redis.zadd(keys.subscriptions_due(), {keys.subscription_member(p, "malaria"): due.timestamp()
                                                    for p in phones})  # fmt: skip
    return phones


def test_more_than_one_ticks_worth_goes_out_in_batches_through_the_workers_once_each(make_services, config):
    services = make_services(SMS_MPS=0)  # no rate limit: 650 SMS at the default 10 a second take a minute
    phones = subscribe(services, 650, NOON_UTC)  # the old inline tick stopped at 500 a minute
    assert subscriptions.fan_out(services, now=NOON_UTC) == 650
    bulk = services.queue("bulk")
    assert len(bulk) == 4  # 200 + 200 + 200 + 50
    assert subscriptions.fan_out(services, now=NOON_UTC) == 0  # leased: a second tick hands out nothing
    jobs = bulk.jobs
    drain(services, "bulk")
    sent = recorded(config)
    assert sorted(s["to"] for s in sent) == phones
    first = services.catalog.language("en").topic("malaria").messages[0].short
    assert {s["body"] for s in sent} == {first}
    for job in jobs:  # every job run again (a retry, a copy alongside): nothing more goes out
        subscriptions.run_batch(services, *job.args)
    assert len(recorded(config)) == 650
    due = Subscriptions(services.store).due((NOON_UTC + timedelta(days=8)).timestamp(), 1000)
    assert len(due) == 650 and {d for _, _, d in due} == {(NOON_UTC + timedelta(days=7)).timestamp()}


def test_a_job_that_died_before_sending_leaves_its_tips_due_again_after_the_lease(services, config):
    subscribe(services, 3, NOON_UTC)
    assert subscriptions.fan_out(services, now=NOON_UTC) == 3
    services.queue("bulk").empty()  # the worker died with the job: nothing was claimed
    assert subscriptions.tick(services, now=NOON_UTC + timedelta(minutes=5)) == 0  # still leased
    later = NOON_UTC + timedelta(seconds=subscriptions.LEASE_SECONDS)
    assert subscriptions.tick(services, now=later) == 3
    assert len(recorded(config)) == 3


def test_replies_are_taken_before_the_tips(services, config):
    from bot import jobs

    subscribe(services, 5, NOON_UTC)
    subscriptions.fan_out(services, now=NOON_UTC)
    jobs.enqueue_text(services, "+256701099999", "A reply someone is waiting for.", "reply")
    order = [q.name for q in [services.queue("replies"), services.queue("bulk")]]
    worker = jobs.SimpleWorker([Queue(n, connection=services.store.redis) for n in order], services=services)
    worker.work(burst=True, max_jobs=1)
    assert [s["to"] for s in recorded(config)] == ["+256701099999"]
