"""Families registered for timed messages: one compact value per phone, and a due index.

`Keys.family(phone)` holds the family in bot.family's compact form (a few dozen bytes);
`Keys.families_due()` scores each registered phone by when its next timed message is due,
so finding what is due now costs O(due), never a scan of everyone. Every change is a
compare-and-set on the family's value (`swap`): a send is claimed before the provider is
called, and a registration arriving meanwhile makes the claim fail rather than be lost.

Public reads for operators and other features: `family`, `families`, `next_due`,
`due_between`, `count`, `phones`, `stage_counts` (kept up to date by every change, see _COUNT).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.store.people import Store

# Registrations are also counted per stored anchor (series letter and day, "b20260312") in the
# stages hash, in the same step as every change, so figures by stage never scan the families:
# every script that changes a family starts with these functions.
_COUNT = """
local function anchors(value)
  local found = {}
  for a in string.gmatch(string.match(value, '^[^;]*') or '', '[pbl]%d%d%d%d%d%d%d%d') do found[#found + 1] = a end
  return found
end
local function recount(stages, old, new)
  local before, after = anchors(old), anchors(new)
  if table.concat(before, ',') == table.concat(after, ',') then return end
  for _, a in ipairs(before) do
    if redis.call('HINCRBY', stages, a, -1) <= 0 then redis.call('HDEL', stages, a) end
  end
  for _, a in ipairs(after) do redis.call('HINCRBY', stages, a, 1) end
end
"""

# KEYS: family, due index, stages.
# ARGV: phone, expected value ('' for none), new value ('' deletes), new score ('' removes).
# Returns 1 when the family still held the expected value (and now holds the new one), else 0.
_SWAP = """
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[3]) end
if ARGV[4] == '' then redis.call('ZREM', KEYS[2], ARGV[1]) else redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1]) end
recount(KEYS[3], current, ARGV[3])
return 1
"""

# KEYS: due index, stages. ARGV: (family key, phone, expected, new value, new score) for each family.
# The same compare-and-set as _SWAP for many families in one call (a send job claims its batch at
# once: one script call instead of one per family halves a send's Redis and client time). The
# family keys travel in ARGV, as the key prefix does in other scripts: this store is not a cluster.
# Returns 1 or 0 for each family, in order.
_SWAP_MANY = """
local won = {}
for i = 1, #ARGV, 5 do
  local key, phone, expected, new, score = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local current = redis.call('GET', key) or ''
  if current ~= expected then won[#won + 1] = 0 else
    if new == '' then redis.call('DEL', key) else redis.call('SET', key, new) end
    if score == '' then redis.call('ZREM', KEYS[1], phone) else redis.call('ZADD', KEYS[1], score, phone) end
    recount(KEYS[2], current, new)
    won[#won + 1] = 1
  end
end
return won
"""

# KEYS: family, due index, stages. ARGV: phone. Whatever the family holds, it is gone.
_ERASE = """
recount(KEYS[3], redis.call('GET', KEYS[1]) or '', '')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
"""

# KEYS: due index. ARGV: now, limit, lease until. The members due by `now`, each moved to `lease
# until` in the same step, so a second tick does not hand them out again; the job that takes them
# sets their real next time (or a crashed job's members come back when the lease ends). Subscriptions'
# series are leased with it too.
LEASE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local args = {}  -- one ZADD for the batch (unpack takes up to 8,000 values: batches of up to 4,000)
for _, member in ipairs(due) do args[#args + 1] = ARGV[3]; args[#args + 1] = member end
if #args > 0 then redis.call('ZADD', KEYS[1], 'XX', unpack(args)) end
return due
"""


class Registrations:
    """Families' timed-message state and when each is next due."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, store.keys
        self._swap = store.script(_COUNT + _SWAP)
        self._swap_many = store.script(_COUNT + _SWAP_MANY)
        self._lease = store.script(LEASE)
        self._erase = store.script(_COUNT + _ERASE)

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
        keys = [self.keys.family(phone), self.keys.families_due(), self.keys.family_stages()]
        score = "" if due is None or not new else f"{due:.0f}"
        return bool(self._swap(keys=keys, args=[phone, old, new, score]))

    def swap_many(self, changes: Sequence[tuple[str, str, str, float | None]], chunk: int = 250) -> list[bool]:
        """Several `swap`s (phone, old, new, due) in one round trip; each is its own compare-and-set.

        One script call per `chunk` families (short enough not to hold Redis up for others).
        """
        pipe = self.redis.pipeline(transaction=False)
        keys = [self.keys.families_due(), self.keys.family_stages()]
        for i in range(0, len(changes), chunk):
            args = []
            for phone, old, new, due in changes[i : i + chunk]:
                args += (self.keys.family(phone), phone, old, new, "" if due is None or not new else f"{due:.0f}")
            self._swap_many(keys=keys, args=args, client=pipe)
        return [bool(won) for part in pipe.execute() for won in part] if changes else []

    def lease_due_many(self, now: float, limit: int, lease_until: float, times: int) -> list[list[str]]:
        """Take up to `times` batches of up to `limit` phones due by `now`, moving them to `lease_until`
        (see LEASE), in one round trip: the non-empty batches, in order."""
        pipe = self.redis.pipeline(transaction=False)
        args = [f"{now:.3f}", limit, f"{lease_until:.0f}"]
        for _ in range(times):
            self._lease(keys=[self.keys.families_due()], args=args, client=pipe)
        return [[p.decode() for p in batch] for batch in pipe.execute() if batch]

    def defer(self, phone: str, when: float) -> None:
        """Try this phone again at `when` (quiet hours, a gateway asking to wait), if it is still registered."""
        self.redis.zadd(self.keys.families_due(), {phone: f"{when:.0f}"}, xx=True)

    def erase(self, phone: str) -> None:
        """Forget the family's registrations (STOP, FORGET, a number no SMS reaches)."""
        self._erase(keys=[self.keys.family(phone), self.keys.families_due(), self.keys.family_stages()], args=[phone])

    # -- figures and bulk loading ------------------------------------------------------------------

    def stage_counts(self) -> dict[str, int]:
        """Registrations per stored anchor ("b20260312" -> 41); bot.stages.by_stage reads them as today's stages."""
        return {k.decode(): int(v) for k, v in self.redis.hgetall(self.keys.family_stages()).items()}

    def add_many(self, families: Sequence[tuple[str, str, float]], chunk: int = 5000) -> None:
        """Write families (phone, stored value, due time) that nobody else is changing: imports and benchmarks.

        Pipelined, `chunk` at a time, with their stage counts; a phone already registered is overwritten
        and its old anchors stay counted (run `recount` after importing over existing families).
        """
        for i in range(0, len(families), chunk):
            part = families[i : i + chunk]
            anchors: dict[str, int] = {}
            for _, value, _ in part:
                for a in _anchors(value):
                    anchors[a] = anchors.get(a, 0) + 1
            pipe = self.redis.pipeline(transaction=False)
            pipe.mset({self.keys.family(phone): value for phone, value, _ in part})
            pipe.zadd(self.keys.families_due(), {phone: f"{due:.0f}" for phone, _, due in part})
            for a, n in anchors.items():
                pipe.hincrby(self.keys.family_stages(), a, n)
            pipe.execute()

    def recount(self, batch: int = 1000) -> int:
        """Count every family's anchors afresh (a scan, for a repair or data from before the counts)."""
        counts: dict[str, int] = {}
        phones = list(self.phones(batch))
        for i in range(0, len(phones), batch):
            for value in self.families(phones[i : i + batch]):
                for a in _anchors(value):
                    counts[a] = counts.get(a, 0) + 1
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.keys.family_stages())
        if counts:
            pipe.hset(self.keys.family_stages(), mapping=counts)
        pipe.execute()
        return len(phones)


def _anchors(value: str) -> list[str]:
    """The stored anchors of a family's value, as _COUNT finds them: "b20260312+2.0,..." -> ["b20260312"]."""
    regs = value.partition(";")[0]
    return [r[:9] for r in regs.split(",") if len(r) >= 9 and r[0] in "pbl" and r[1:9].isdigit()]
