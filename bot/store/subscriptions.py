"""Subscriptions' schedule: when each (person, topic) series is next due, and how far it has got."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.store.registrations import LEASE

if TYPE_CHECKING:
    from bot.store.people import Store

# KEYS: due zset, positions hash. ARGV: member, expected score, new score.
# Returns the series' position, or -1 when another tick already took it.
_CLAIM = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return -1 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
"""


class Subscriptions:
    """(person, topic) series scored by when their next tip is due (unix time)."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, store.keys
        self._claim = store.script(_CLAIM)
        self._lease = store.script(LEASE)

    def due(self, now: float, limit: int) -> list[tuple[str, str, float]]:
        """(phone, topic, due time) of series due by `now`, earliest first."""
        rows = self.redis.zrangebyscore(self.keys.subscriptions_due(), "-inf", now, start=0, num=limit,
                                        withscores=True)  # fmt: skip
        return [(*self.keys.subscription_of(m.decode()), score) for m, score in rows]

    def lease(self, now: float, limit: int, until: float) -> list[tuple[str, str]]:
        """Take up to `limit` series due by `now`, moving them to `until` (see registrations.LEASE): (phone,
        topic) each. The job that takes them claims each at exactly `until` (`claim`)."""
        found = self._lease(keys=[self.keys.subscriptions_due()], args=[f"{now:.3f}", limit, f"{until:.0f}"])
        return [self.keys.subscription_of(m.decode()) for m in found]

    def defer(self, phone: str, topic_id: str, when: float) -> None:
        """Move a series' next tip to `when` (quiet hours, a transient failure), if it still exists."""
        self.redis.zadd(self.keys.subscriptions_due(), {self.keys.subscription_member(phone, topic_id): when}, xx=True)

    def claim(self, phone: str, topic_id: str, due: float, next_due: float) -> int:
        """Take a due tip (moving the series to `next_due`): its position, or -1 if another tick took it."""
        member = self.keys.subscription_member(phone, topic_id)
        keys = [self.keys.subscriptions_due(), self.keys.subscription_positions()]
        return int(self._claim(keys=keys, args=[member, due, next_due]))

    def advance(self, phone: str, topic_id: str, position: int, length: int) -> None:
        """Record that tip `position` went out; a series whose last tip went out ends."""
        if position + 1 >= length:
            self.end(phone, topic_id)
        else:
            member = self.keys.subscription_member(phone, topic_id)
            self.redis.hset(self.keys.subscription_positions(), member, position + 1)

    def end(self, phone: str, topic_id: str) -> None:
        member = self.keys.subscription_member(phone, topic_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(self.keys.subscriptions_due(), member)
        pipe.hdel(self.keys.subscription_positions(), member)
        pipe.execute()
