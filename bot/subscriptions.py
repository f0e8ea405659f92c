"""Subscriptions: each subscribed topic's key messages in order, one every N days, never at night.

A tick (an RQ job that queues the next tick) leases the series that are due (O(due): each is moved
to a lease time in the same step, so no second tick hands it out) and fans them out in batches to
jobs on the bulk queue, behind replies, so the rate is the provider's (SMS_MPS), not one process's.
A job claims each series at exactly its lease time, moving it a whole interval on, before anything
is sent: a job run twice, beside a copy of itself, or after a crash never sends the same tip again;
a job that died before its claims leaves its series due again when the lease ends. Tips due in
quiet hours are deferred to the morning, not dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from bot import calls, outbound, quiet, reach
from bot.jobs import job_id
from bot.providers import Outcome
from bot.store import Subscriptions

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
TICK_SECONDS = 60
BATCH = 200  # series per send job
LEASE_SECONDS = 900  # a leased series whose job died is due again after this


def leases(svc: Services, now: datetime, batch: int = BATCH) -> Iterator[tuple[list[tuple[str, str]], float]]:
    """Lease the due series `batch` at a time: (series, lease time) for each batch."""
    subscriptions, until = Subscriptions(svc.store), now.timestamp() + LEASE_SECONDS
    while series := subscriptions.lease(now.timestamp(), batch, until):
        yield series, until


def fan_out(svc: Services, now: datetime | None = None) -> int:
    """Lease every due series and queue its send jobs (workers send them); returns how many series."""
    now = now or datetime.now(timezone.utc)
    queue, total = svc.queue("bulk"), 0
    for n, (series, until) in enumerate(leases(svc, now)):
        queue.enqueue("bot.subscriptions.run_batch", series, until, now.timestamp(), job_timeout=3600,
                      result_ttl=600, job_id=job_id(svc.config, "subs", f"{now.timestamp():.0f}", n,
                                                    time.time_ns()))  # fmt: skip
        total += len(series)
    return total


def tick(svc: Services, now: datetime | None = None) -> int:
    """Send every due tip in this process, at `now` (cron by hand, tests); returns how many were sent."""
    now = now or datetime.now(timezone.utc)
    return sum(send_batch(svc, series, until, now) for series, until in leases(svc, now))


def run_batch(svc: Services, series: list[tuple[str, str]], until: float, at: float) -> str:
    """The RQ job: a leased batch sent at the real time (a job that starts late still keeps quiet hours)."""
    sent = send_batch(svc, series, until, datetime.fromtimestamp(max(at, time.time()), timezone.utc))
    return f"{sent} sent"


def send_batch(svc: Services, series: list[tuple[str, str]], until: float, now: datetime) -> int:
    """Claim and send each leased series' next tip (deferring those in quiet hours); how many were sent."""
    subscriptions = Subscriptions(svc.store)
    hours = quiet.parse_hours(svc.config["QUIET_HOURS"])
    interval = timedelta(days=int(svc.config["DRIP_INTERVAL_DAYS"]))
    sent = 0
    for phone, topic_id in series:
        allowed = quiet.next_allowed(now, quiet.timezone_for(phone, svc.config["TIMEZONE"]), hours)
        if allowed > now:  # quiet hours where they are: try again when the morning comes
            subscriptions.defer(phone, topic_id, allowed.timestamp())
            continue
        position = subscriptions.claim(phone, topic_id, float(f"{until:.0f}"), (now + interval).timestamp())
        if position < 0:
            continue  # taken already (this job run twice), or changed meanwhile (LEAVE, STOP)
        if _send(svc, subscriptions, phone, topic_id, position):
            sent += 1
    return sent


def _send(svc: Services, subscriptions: Subscriptions, phone: str, topic_id: str, position: int) -> bool:
    profile = svc.store.profile_fields(phone)
    lang = svc.catalog.language(profile.get("lang"))
    messages = lang.topic(topic_id).messages
    if position >= len(messages):  # the topic lost messages since the series began
        subscriptions.end(phone, topic_id)
        return False
    message = messages[position]
    try:
        if calls.wants_calls(svc, profile):  # they chose to hear their tips (VOICE): a phone call
            result = calls.place(svc, phone, topic_id, message.id, kind="subscription", profile=profile)
        else:
            # On their channel: WhatsApp (in or outside its window) for whoever last wrote there, else SMS.
            result = reach.deliver(svc, phone, message.short, kind="subscription",
                                   meta={"topic": topic_id, "message": message.id}, profile=profile)  # fmt: skip
    except outbound.TransientSendError:
        # The claim moved it a whole interval on: bring it back for a tick soon.
        subscriptions.defer(phone, topic_id, (datetime.now(timezone.utc) + timedelta(minutes=5)).timestamp())
        return False
    if result.outcome in (Outcome.OPTED_OUT, Outcome.INVALID):
        subscriptions.end(phone, topic_id)
        return False
    subscriptions.advance(phone, topic_id, position, len(messages))
    return result.outcome is Outcome.SENT


def tick_and_reschedule(svc: Services) -> int:
    """The RQ job: one tick fanning out to send jobs, then the next tick queued (workers run with the scheduler)."""
    try:
        return fan_out(svc)
    finally:
        schedule_ticks(svc)


def schedule_ticks(svc: Services) -> None:
    """Make sure exactly one next tick is queued."""
    minute = int(datetime.now(timezone.utc).timestamp()) // TICK_SECONDS
    # Not the old "drip-tick" id: a tick queued under bot.drip before the rename fails once, and
    # is not mistaken for this one.
    tick_id = job_id(svc.config, "subscriptions-tick", minute)
    queue = svc.queue("bulk")
    if queue.fetch_job(tick_id) is None:
        queue.enqueue_in(timedelta(seconds=TICK_SECONDS), "bot.subscriptions.tick_and_reschedule", job_id=tick_id)
