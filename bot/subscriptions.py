"""Subscriptions: each subscribed topic's key messages in order, one every N days, never at night.

A tick (an RQ job that queues the next tick) takes the subscriptions that are due; each is
claimed by moving its due time forward before anything is sent, so two ticks cannot send
the same tip. Tips due in quiet hours are deferred to the morning, not dropped.
"""

from __future__ import annotations

import logging
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
PER_TICK = 500


def tick(svc: Services, now: datetime | None = None) -> int:
    """Send every due tip (deferring those in quiet hours); returns how many were sent."""
    now = now or datetime.now(timezone.utc)
    subscriptions = Subscriptions(svc.store)
    hours = quiet.parse_hours(svc.config["QUIET_HOURS"])
    interval = timedelta(days=int(svc.config["DRIP_INTERVAL_DAYS"]))
    sent = 0
    for phone, topic_id, due in subscriptions.due(now.timestamp(), PER_TICK):
        allowed = quiet.next_allowed(now, quiet.timezone_for(phone, svc.config["TIMEZONE"]), hours)
        if allowed > now:  # quiet hours where they are: try again when the morning comes
            subscriptions.defer(phone, topic_id, allowed.timestamp())
            continue
        position = subscriptions.claim(phone, topic_id, due, (now + interval).timestamp())
        if position < 0:
            continue  # another tick took it
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
    """The RQ job: one tick, then the next one queued (workers run with --with-scheduler)."""
    try:
        return tick(svc)
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
