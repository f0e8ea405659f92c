"""Broadcasts' records, audiences and per-recipient claims."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import redis

from bot.store import lua
from bot.store.codec import decoded, flat
from bot.store.log import LogEntry, log_args
from bot.store.sends import SENT_TTL

if TYPE_CHECKING:
    from bot.store.people import Store


class BroadcastStatus(str, Enum):
    SCHEDULED = "scheduled"  # waits for its time
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class RecipientState(str, Enum):
    """What happened to one recipient of a broadcast, as kept in `Keys.recipients`."""

    IN_FLIGHT = "i"  # claimed, the gateway being asked; left behind by a worker that died: unknown
    SENT = "s"
    FAILED = "f"
    OPTED_OUT = "o"
    INVALID = "v"
    EXCLUDED = "x"  # not sent: opted out, left the groups or unreachable when their turn came


RELEASE = "r"  # not a state: the claim is dropped and the recipient tried again (the gateway said later)

# One round trip per recipient: record what happened to the previous one, then claim the
# next. A claim marks the recipient in flight before the provider is called, so a worker
# killed mid-send leaves it in flight: never sent again, counted as unknown.
# A step run twice (redis-py resends it after a connection error) changes nothing more and
# answers the same: the previous recipient is settled only while in flight, and the batch
# run's last claim (the broadcast's field claim:<run>) tells its own claim from another's.
# KEYS: broadcast, recipients, optouts, log, sent(prev id), profile(prev), profile(next), log index(prev), groups...
# ARGV: prev phone, prev code (a RecipientState, or RELEASE), prev figure, prev provider id,
#       log maxlen, minid, retention ms, sent ttl, now, next phone, broadcast id, claim field, log fields...
_STEP = (
    lua.LOG
    + """
local prev = ARGV[1]
if prev ~= '' and redis.call('HGET', KEYS[2], prev) == 'i' then
  redis.call('HINCRBY', KEYS[1], 'inflight', -1)
  if ARGV[2] == 'r' then
    redis.call('HDEL', KEYS[2], prev)
  else
    redis.call('HSET', KEYS[2], prev, ARGV[2])
    redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
    if #ARGV > 12 then
      local entry = {}
      for j = 13, #ARGV do entry[#entry + 1] = ARGV[j] end
      append_log(KEYS[4], KEYS[8], ARGV[5], ARGV[6], ARGV[7], entry)
    end
    if ARGV[4] ~= '' then record_sent(KEYS[5], ARGV[8], 'sent', ARGV[11]) end
    if ARGV[2] == 'o' then opt_out(KEYS[6], KEYS[3], prev, ARGV[9]) end
    if ARGV[2] == 'v' then redis.call('HSET', KEYS[6], 'invalid', '1') end
  end
end
local nxt = ARGV[10]
if nxt == '' then
  redis.call('HDEL', KEYS[1], ARGV[12])
  return {'none', ''}
end
if redis.call('HGET', KEYS[1], ARGV[12]) == nxt and redis.call('HGET', KEYS[2], nxt) == 'i' then
  return {'go', redis.call('HGET', KEYS[7], 'lang') or ''}  -- this run's own claim, answered again
end
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'sending' then
  redis.call('HDEL', KEYS[1], ARGV[12])  -- the run stops here
  return {status or 'missing', ''}
end
if redis.call('HEXISTS', KEYS[2], nxt) == 1 then return {'skip', ''} end
local member = false
for k = 9, #KEYS do
  if redis.call('SISMEMBER', KEYS[k], nxt) == 1 then member = true break end
end
if not member or redis.call('SISMEMBER', KEYS[3], nxt) == 1 or redis.call('HGET', KEYS[7], 'invalid') == '1' then
  redis.call('HSET', KEYS[2], nxt, 'x')
  redis.call('HINCRBY', KEYS[1], 'excluded', 1)
  return {'excluded', ''}
end
redis.call('HSET', KEYS[2], nxt, 'i')
redis.call('HINCRBY', KEYS[1], 'inflight', 1)
redis.call('HSET', KEYS[1], ARGV[12], nxt)
return {'go', redis.call('HGET', KEYS[7], 'lang') or ''}
"""
)

# After a broadcast ends, its audience snapshot and recipients' states (each recipient's number)
# are kept this long: nothing reads them once sending is over, and who was sent what stays in
# the message log (LOG_RETENTION_DAYS), where FORGET finds it. The figures stay with the record.
DETAIL_SECONDS = 7 * 86_400

# KEYS: broadcast, done set, audience, recipients. ARGV: batch number, now, DETAIL_SECONDS.
# Returns 1 when every batch is done. A batch done late (a duplicated job) finds the broadcast
# ended, and leaves nothing without an expiry.
_BATCH_DONE = """
redis.call('SADD', KEYS[2], ARGV[1])
local batches = tonumber(redis.call('HGET', KEYS[1], 'batches') or '0')
local status = redis.call('HGET', KEYS[1], 'status')
local all_done = redis.call('SCARD', KEYS[2]) >= batches
if all_done and status == 'sending' then
  redis.call('HSET', KEYS[1], 'status', 'done', 'finished_at', ARGV[2])
  status = 'done'
end
if status == 'done' or status == 'cancelled' then
  for k = 2, 4 do redis.call('EXPIRE', KEYS[k], ARGV[3]) end
end
if all_done then return 1 end
return 0
"""


@dataclass(frozen=True)
class Settled:
    """What happened to a claimed recipient, for `Broadcasts.step`."""

    phone: str
    code: str  # a RecipientState's value, or RELEASE
    figure: str = ""  # the broadcast figure it counts toward
    provider_id: str = ""
    log: LogEntry | None = None

    @classmethod
    def released(cls, phone: str) -> Settled:
        """The gateway said try later: drop the claim, so a retried batch sends to them."""
        return cls(phone, RELEASE)


class Broadcasts:
    """A broadcast's record, audience snapshot and per-recipient states."""

    def __init__(self, store: Store):
        self.store, self.redis, self.keys = store, store.redis, store.keys
        self._step = store.script(_STEP)
        self._done = store.script(_BATCH_DONE)

    def create(self, fields: Mapping[str, str]) -> str:
        number = self.redis.incr(self.keys.broadcast_seq())
        broadcast_id = f"B{number}"
        now = time.time()
        record = {"id": broadcast_id, "created_at": f"{now:.3f}", "planned": 0, "excluded": 0, "sent": 0,
                  "failed": 0, "opted_out": 0, "invalid": 0, "delivered": 0, "undelivered": 0, "inflight": 0,
                  "batches": 0, **fields}  # fmt: skip
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.keys.broadcast(broadcast_id), mapping=record)
        pipe.zadd(self.keys.broadcasts(), {broadcast_id: now})
        pipe.execute()
        return broadcast_id

    def get(self, broadcast_id: str) -> dict[str, str]:
        return decoded(self.redis.hgetall(self.keys.broadcast(broadcast_id)))

    def update(self, broadcast_id: str, **fields) -> None:
        self.redis.hset(self.keys.broadcast(broadcast_id), mapping={k: str(v) for k, v in fields.items()})

    def set_status(self, broadcast_id: str, status: BroadcastStatus, *, only_from: tuple[BroadcastStatus, ...]) -> bool:
        """Change status only from one of `only_from` (atomic), so a cancel cannot be undone by a late start."""
        key = self.keys.broadcast(broadcast_id)
        allowed = {s.value for s in only_from}
        with self.redis.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key)
                if (pipe.hget(key, "status") or b"").decode() not in allowed:
                    return False
                pipe.multi()
                pipe.hset(key, "status", status.value)
                pipe.execute()
                return True
            except redis.WatchError:
                return False

    def recent(self, count: int = 20) -> list[dict[str, str]]:
        ids = self.redis.zrevrange(self.keys.broadcasts(), 0, count - 1)
        pipe = self.redis.pipeline(transaction=False)
        for i in ids:
            pipe.hgetall(self.keys.broadcast(i.decode()))
        return [decoded(r) for r in pipe.execute() if r]

    def with_status(self, status: BroadcastStatus) -> list[str]:
        ids = [i.decode() for i in self.redis.zrange(self.keys.broadcasts(), 0, -1)]
        pipe = self.redis.pipeline(transaction=False)
        for i in ids:
            pipe.hget(self.keys.broadcast(i), "status")
        return [i for i, s in zip(ids, pipe.execute(), strict=True) if s and s.decode() == status.value]

    def audience_size(self, groups: list[str]) -> int:
        """Members of any of these groups who have not opted out."""
        if not groups:
            return 0
        keys = [self.keys.group(g) for g in groups]
        tmp = self.keys.scratch()
        pipe = self.redis.pipeline(transaction=True)
        pipe.sunionstore(tmp, keys)
        pipe.sintercard(2, [tmp, self.keys.optouts()])
        pipe.scard(tmp)
        pipe.delete(tmp)
        _, opted_out, total, _ = pipe.execute()
        return total - opted_out

    def members(self, groups: list[str]) -> tuple[list[str], int]:
        """(members of any of these groups who have not opted out, sorted; how many had opted out)."""
        keys = [self.keys.group(g) for g in groups]
        union, chosen = self.keys.scratch(), self.keys.scratch()
        pipe = self.redis.pipeline(transaction=True)
        if keys:
            pipe.sunionstore(union, keys)
        else:
            pipe.scard(union)  # nothing to unite: an empty audience
        pipe.sdiffstore(chosen, [union, self.keys.optouts()])
        pipe.smembers(chosen)
        pipe.delete(union, chosen)
        total, _, members, _ = pipe.execute()
        return sorted(m.decode() for m in members), total - len(members)

    def snapshot(self, broadcast_id: str, groups: list[str], batch_size: int,
                 keep: Callable[[list[str]], list[str]] | None = None) -> int:  # fmt: skip
        """Fix the audience when sending starts: members of the groups, less whoever opted out,
        and only those `keep` keeps (a broadcast to a stage: babies aged 8-10 months)."""
        phones, excluded = self.members(groups)
        if keep is not None:
            phones = keep(phones)
        audience = self.keys.audience(broadcast_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(audience)
        for i in range(0, len(phones), 10_000):
            pipe.rpush(audience, *phones[i : i + 10_000])
        batches = (len(phones) + batch_size - 1) // batch_size
        pipe.hset(self.keys.broadcast(broadcast_id), mapping={
            "planned": len(phones), "excluded": excluded, "batches": batches,
            "batch_size": batch_size, "started_at": f"{time.time():.3f}"})  # fmt: skip
        pipe.execute()
        return batches

    def audience_slice(self, broadcast_id: str, batch: int, size: int) -> list[str]:
        rows = self.redis.lrange(self.keys.audience(broadcast_id), batch * size, (batch + 1) * size - 1)
        return [r.decode() for r in rows]

    def step(self, broadcast_id: str, groups: list[str], settled: Settled | None, next_phone: str, *,
             run: str) -> tuple[str, str]:  # fmt: skip
        """Record `settled`, then claim `next_phone`: ("go", lang), or why not (skip, excluded, paused...).

        `run` names the batch run making the claims (one per `send_batch` call, see `new_run`):
        a step it repeats finds its own claim and answers "go" again.
        """
        k = self.keys
        prev = settled.phone if settled else ""
        keys = [k.broadcast(broadcast_id), k.recipients(broadcast_id), k.optouts(), k.log(),
                k.sent(settled.provider_id) if settled and settled.provider_id else k.broadcast(broadcast_id),
                k.profile(prev) if prev else k.broadcast(broadcast_id),
                k.profile(next_phone) if next_phone else k.broadcast(broadcast_id),
                k.log_index(prev) if prev else k.broadcast(broadcast_id),
                *(k.group(g) for g in groups)]  # fmt: skip
        now = time.time()
        log = flat(settled.log.fields()) if settled and settled.log else []
        args = [prev, settled.code if settled else "", settled.figure if settled else "",
                settled.provider_id if settled else "", *log_args(self.store, now), SENT_TTL, f"{now:.3f}",
                next_phone, broadcast_id, k.claim_field(run), *log]  # fmt: skip
        outcome, lang = self.store.replicated.run(self._step, keys, args)  # a claim survives a failover
        return outcome.decode(), lang.decode()

    @staticmethod
    def new_run() -> str:
        """A name for one run of a batch, for `step`."""
        return lua.token()

    def batch_done(self, broadcast_id: str, batch: int) -> bool:
        keys = [self.keys.broadcast(broadcast_id), *self._details(broadcast_id)]
        done = self._done(keys=keys, args=[batch, f"{time.time():.3f}", DETAIL_SECONDS])
        return bool(done)

    def erase_recipient(self, phone: str) -> int:
        """FORGET: take `phone` out of every ended broadcast's audience and recipients' states (three round
        trips); how many broadcasts held it.

        A broadcast still scheduled, sending or paused keeps it until its details expire (DETAIL_SECONDS
        after it ends): an entry taken out of its audience would move the slices its batches read.
        """
        ids = [i.decode() for i in self.redis.zrange(self.keys.broadcasts(), 0, -1)]
        pipe = self.redis.pipeline(transaction=False)
        for bid in ids:
            pipe.hget(self.keys.broadcast(bid), "status")
        ended = {BroadcastStatus.DONE.value.encode(), BroadcastStatus.CANCELLED.value.encode()}
        over = [bid for bid, status in zip(ids, pipe.execute(), strict=True) if status in ended]
        pipe = self.redis.pipeline(transaction=False)
        for bid in over:
            pipe.lrem(self.keys.audience(bid), 0, phone)
            pipe.hdel(self.keys.recipients(bid), phone)
        taken = pipe.execute()
        return sum(1 for listed, stated in zip(taken[::2], taken[1::2], strict=True) if listed or stated)

    def expire_details(self, broadcast_id: str) -> None:
        """A cancelled broadcast: its audience and recipients' states go after DETAIL_SECONDS, as a finished one's."""
        pipe = self.redis.pipeline(transaction=False)
        for key in self._details(broadcast_id):
            pipe.expire(key, DETAIL_SECONDS)
        pipe.execute()

    def _details(self, broadcast_id: str) -> tuple[str, str, str]:
        """What a broadcast keeps only until DETAIL_SECONDS after it ends: done batches, audience, recipients."""
        k = self.keys
        return k.batches_done(broadcast_id), k.audience(broadcast_id), k.recipients(broadcast_id)

    def batches_left(self, broadcast_id: str) -> list[int]:
        total = int(self.get(broadcast_id).get("batches", 0))
        done = {int(x) for x in self.redis.smembers(self.keys.batches_done(broadcast_id))}
        return [n for n in range(total) if n not in done]
