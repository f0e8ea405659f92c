"""Families registered for timed messages: one compact value per phone, and a due index.

`Keys.family(phone)` holds the family in bot.family's compact form (a few dozen bytes);
`Keys.families_due()` scores each registered phone by when its next timed message is due,
so finding what is due now costs O(due), never a scan of everyone. Every change is a
compare-and-set on the family's value (`swap`): a send is claimed before the provider is
called, and a registration arriving meanwhile makes the claim fail rather than be lost.

Public reads for operators and other features: `family`, `families`, `next_due`,
`due_between`, `count`, `phones`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.store.people import Store

# KEYS: family, due index. ARGV: phone, expected value ('' for none), new value ('' deletes), new score ('' removes).
# Returns 1 when the family still held the expected value (and now holds the new one), else 0.
_SWAP = """
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[3]) end
if ARGV[4] == '' then redis.call('ZREM', KEYS[2], ARGV[1]) else redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1]) end
return 1
"""

# KEYS: due index. ARGV: now, limit, lease until. The phones due by `now`, each moved to `lease
# until` in the same step, so a second tick does not hand them out again; the job that takes them
# sets their real next time (or a crashed job's phones come back when the lease ends).
_LEASE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, phone in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[3], phone) end
return due
"""


class Registrations:
    """Families' timed-message state and when each is next due."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, store.keys
        self._swap = store.script(_SWAP)
        self._lease = store.script(_LEASE)

    # -- reads -------------------------------------------------------------------------------------

    def family(self, phone: str) -> str:
        """One family's stored value ('' when not registered); bot.family.decode reads it."""
        return (self.redis.get(self.keys.family(phone)) or b"").decode()

    def families(self, phones: Sequence[str]) -> list[str]:
        """Several families' values in one round trip."""
        if not phones:
            return []
        return [(v or b"").decode() for v in self.redis.mget([self.keys.family(p) for p in phones])]

    def next_due(self, phone: str) -> float | None:
        """When this phone's next timed message is due (unix time), or None when it has none."""
        score = self.redis.zscore(self.keys.families_due(), phone)
        return None if score is None else float(score)

    def due_between(self, start: float, end: float, limit: int = 1000, offset: int = 0) -> list[tuple[str, float]]:
        """(phone, due time) of families whose next message is due in [start, end], earliest first."""
        rows = self.redis.zrangebyscore(self.keys.families_due(), start, end, start=offset, num=limit,
                                        withscores=True)  # fmt: skip
        return [(m.decode(), float(s)) for m, s in rows]

    def count(self) -> int:
        """Families registered (each has a next message)."""
        return int(self.redis.zcard(self.keys.families_due()))

    def phones(self, batch: int = 1000) -> Iterator[str]:
        """Every registered phone (a scan of the due index, for figures and exports; never on a hot path)."""
        for member, _ in self.redis.zscan_iter(self.keys.families_due(), count=batch):
            yield member.decode()

    # -- changes -----------------------------------------------------------------------------------

    def swap(self, phone: str, old: str, new: str, due: float | None) -> bool:
        """Compare-and-set: the family becomes `new` (due at `due`; '' and None end it) if it still is `old`."""
        keys = [self.keys.family(phone), self.keys.families_due()]
        score = "" if due is None or not new else f"{due:.0f}"
        return bool(self._swap(keys=keys, args=[phone, old, new, score]))

    def lease_due(self, now: float, limit: int, lease_until: float) -> list[str]:
        """Take up to `limit` phones due by `now`, moving them to `lease_until` (see _LEASE)."""
        args = [f"{now:.3f}", limit, f"{lease_until:.0f}"]
        return [p.decode() for p in self._lease(keys=[self.keys.families_due()], args=args)]

    def defer(self, phone: str, when: float) -> None:
        """Try this phone again at `when` (quiet hours, a gateway asking to wait), if it is still registered."""
        self.redis.zadd(self.keys.families_due(), {phone: f"{when:.0f}"}, xx=True)

    def erase(self, phone: str) -> None:
        """Forget the family's registrations (STOP, FORGET, a number no SMS reaches)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.keys.family(phone))
        pipe.zrem(self.keys.families_due(), phone)
        pipe.execute()
