"""Subscriptions: each subscribed topic's key messages in order, one every N days, never at night.

A tick (an RQ job that queues the next tick) takes the subscriptions that are due; each is
claimed by moving its due time forward before anything is sent, so two ticks cannot send
the same tip. Tips due in quiet hours are deferred to the morning, not dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from bot import jobs, outbound, quiet
from bot.providers import Outcome
from bot.services import Services, job_id

log = logging.getLogger(__name__)
TICK_SECONDS = 60
PER_TICK = 500

# KEYS: drip zset, positions hash. ARGV: member, expected score, new score.
_CLAIM = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return -1 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
"""


def tick(svc: Services | None = None, now: datetime | None = None) -> int:
    """Send every due tip (deferring those in quiet hours); returns how many were sent."""
    svc = svc or jobs.current()
    now = now or datetime.now(timezone.utc)
    r, keys = svc.store.redis, svc.store.keys
    claim = r.register_script(_CLAIM)
    hours = quiet.parse_hours(svc.config["QUIET_HOURS"])
    interval = timedelta(days=int(svc.config["DRIP_INTERVAL_DAYS"]))
    sent = 0
    for member, score in r.zrangebyscore(keys.drip(), "-inf", now.timestamp(), start=0, num=PER_TICK, withscores=True):
        phone, _, topic_id = member.decode().partition("|")
        allowed = quiet.next_allowed(now, quiet.timezone_for(phone, svc.config["TIMEZONE"]), hours)
        if allowed > now:  # quiet hours where they are: try again when the morning comes
            r.zadd(keys.drip(), {member: allowed.timestamp()}, xx=True)
            continue
        position = int(claim(keys=[keys.drip(), keys.drip_position()],
                             args=[member, score, (now + interval).timestamp()]))  # fmt: skip
        if position < 0:
            continue  # another tick took it
        if _send(svc, phone, topic_id, position):
            sent += 1
    return sent


def _send(svc: Services, phone: str, topic_id: str, position: int) -> bool:
    r, keys = svc.store.redis, svc.store.keys
    member = f"{phone}|{topic_id}"
    lang = svc.catalog.language(svc.store.profile_fields(phone).get("lang"))
    messages = lang.topic(topic_id).messages
    if position >= len(messages):
        r.zrem(keys.drip(), member)  # the series is complete
        r.hdel(keys.drip_position(), member)
        return False
    message = messages[position]
    try:
        result = outbound.deliver(svc.store, svc.provider, phone, message.short, mps=svc.config["SMS_MPS"],
                                  kind="subscription", meta={"topic": topic_id, "message": message.id})  # fmt: skip
    except outbound.TransientSendError:
        retry_at = datetime.now(timezone.utc) + timedelta(minutes=5)
        r.zadd(keys.drip(), {member: retry_at.timestamp()}, xx=True)  # the claim had moved it a whole interval on
        return False
    r.hset(keys.drip_position(), member, position + 1)
    if result.outcome in (Outcome.OPTED_OUT, Outcome.INVALID):
        r.zrem(keys.drip(), member)
    return result.outcome is Outcome.SENT


def tick_and_reschedule() -> int:
    """The RQ job: one tick, then the next one queued (workers run with --with-scheduler)."""
    svc = jobs.current()
    try:
        return tick(svc)
    finally:
        schedule_ticks(svc)


def schedule_ticks(svc: Services) -> None:
    """Make sure exactly one next tick is queued."""
    minute = int(datetime.now(timezone.utc).timestamp()) // TICK_SECONDS
    tick_id = job_id(svc.config, "drip-tick", minute)
    queue = svc.queue("bulk")
    if queue.fetch_job(tick_id) is None:
        queue.enqueue_in(timedelta(seconds=TICK_SECONDS), tick_and_reschedule, job_id=tick_id)
