"""Subscriptions' schedule: when each (person, topic) series is next due, and how far it has got."""

from __future__ import annotations

import redis

from bot.store.core import Store

# KEYS: drip zset, positions hash. ARGV: member, expected score, new score.
# Returns the series' position, or -1 when another tick already took it.
_CLAIM = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return -1 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
"""


class Subscriptions:
    """Members are "phone|topic", scored by when their next tip is due (unix time)."""

    def __init__(self, store: Store):
        self.redis: redis.Redis = store.redis
        self.keys = store.keys
        self._claim = self.redis.register_script(_CLAIM)

    @staticmethod
    def member(phone: str, topic_id: str) -> str:
        return f"{phone}|{topic_id}"

    def due(self, now: float, limit: int) -> list[tuple[str, str, float]]:
        """(phone, topic, due time) of series due by `now`, earliest first."""
        rows = self.redis.zrangebyscore(self.keys.drip(), "-inf", now, start=0, num=limit, withscores=True)
        return [(*m.decode().split("|", 1), score) for m, score in rows]

    def defer(self, phone: str, topic_id: str, when: float) -> None:
        """Move a series' next tip to `when` (quiet hours, a transient failure), if it still exists."""
        self.redis.zadd(self.keys.drip(), {self.member(phone, topic_id): when}, xx=True)

    def claim(self, phone: str, topic_id: str, due: float, next_due: float) -> int:
        """Take a due tip (moving the series to `next_due`): its position, or -1 if another tick took it."""
        member = self.member(phone, topic_id)
        return int(self._claim(keys=[self.keys.drip(), self.keys.drip_position()], args=[member, due, next_due]))

    def advance(self, phone: str, topic_id: str, position: int, length: int) -> None:
        """Record that tip `position` went out; a series whose last tip went out ends."""
        if position + 1 >= length:
            self.end(phone, topic_id)
        else:
            self.redis.hset(self.keys.drip_position(), self.member(phone, topic_id), position + 1)

    def end(self, phone: str, topic_id: str) -> None:
        member = self.member(phone, topic_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(self.keys.drip(), member)
        pipe.hdel(self.keys.drip_position(), member)
        pipe.execute()

    def next_due(self, phone: str, topic_id: str) -> float | None:
        return self.redis.zscore(self.keys.drip(), self.member(phone, topic_id))
