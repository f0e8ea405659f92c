"""Broadcasts' records, audiences and per-recipient claims; field workers."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import redis

from bot.store.core import _LOG_LUA, SENT_TTL, LogEntry, Store, _decoded, _flat, _json

# -- broadcasts -----------------------------------------------------------------------------

# One round trip per recipient: record what happened to the previous one, then claim the
# next. A claim marks the recipient "i" (in flight) before the provider is called, so a
# worker killed mid-send leaves "i" behind: never sent again, counted as unknown.
# KEYS: broadcast, recipients, optouts, log, sent(prev id), profile(prev), profile(next), log index(prev), groups...
# ARGV: prev phone, prev code (s f o v, or r: release), prev figure, prev provider id,
#       log maxlen, minid, retention ms, sent ttl, now, next phone, broadcast id, log fields...
_BROADCAST_STEP = (
    _LOG_LUA
    + """
local prev = ARGV[1]
if prev ~= '' then
  redis.call('HINCRBY', KEYS[1], 'inflight', -1)
  if ARGV[2] == 'r' then
    redis.call('HDEL', KEYS[2], prev)
  else
    redis.call('HSET', KEYS[2], prev, ARGV[2])
    redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
    if #ARGV > 11 then
      local entry = {}
      for j = 12, #ARGV do entry[#entry + 1] = ARGV[j] end
      append_log(KEYS[4], KEYS[8], ARGV[5], ARGV[6], ARGV[7], entry)
    end
    if ARGV[4] ~= '' then record_sent(KEYS[5], ARGV[8], prev, 'sent', ARGV[11]) end
    if ARGV[2] == 'o' then opt_out(KEYS[6], KEYS[3], prev, ARGV[9]) end
    if ARGV[2] == 'v' then redis.call('HSET', KEYS[6], 'invalid', '1') end
  end
end
local nxt = ARGV[10]
if nxt == '' then return {'none', ''} end
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'sending' then return {status or 'missing', ''} end
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
return {'go', redis.call('HGET', KEYS[7], 'lang') or ''}
"""
)

# KEYS: broadcast, done set. ARGV: batch number, now. Returns 1 when every batch is done.
_BATCH_DONE = """
redis.call('SADD', KEYS[2], ARGV[1])
local batches = tonumber(redis.call('HGET', KEYS[1], 'batches') or '0')
if redis.call('SCARD', KEYS[2]) < batches then return 0 end
if redis.call('HGET', KEYS[1], 'status') == 'sending' then
  redis.call('HSET', KEYS[1], 'status', 'done', 'finished_at', ARGV[2])
end
return 1
"""


@dataclass(frozen=True)
class Settled:
    """What happened to a claimed recipient, for `Broadcasts.step`."""

    phone: str
    code: str  # s sent, f failed, o opted out, v invalid, r released (will be retried)
    figure: str  # the broadcast figure it counts toward
    provider_id: str = ""
    log: LogEntry | None = None


class Broadcasts:
    """A broadcast's record, audience snapshot and per-recipient states."""

    def __init__(self, store: Store):
        self.store, self.redis, self.keys = store, store.redis, store.keys
        self._step = self.redis.register_script(_BROADCAST_STEP)
        self._done = self.redis.register_script(_BATCH_DONE)

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
        return _decoded(self.redis.hgetall(self.keys.broadcast(broadcast_id)))

    def update(self, broadcast_id: str, **fields) -> None:
        self.redis.hset(self.keys.broadcast(broadcast_id), mapping={k: str(v) for k, v in fields.items()})

    def set_status(self, broadcast_id: str, status: str, *, only_from: tuple[str, ...]) -> bool:
        """Change status only from one of `only_from` (atomic), so a cancel cannot be undone by a late start."""
        key = self.keys.broadcast(broadcast_id)
        with self.redis.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key)
                if (pipe.hget(key, "status") or b"").decode() not in only_from:
                    return False
                pipe.multi()
                pipe.hset(key, "status", status)
                pipe.execute()
                return True
            except redis.WatchError:
                return False

    def recent(self, count: int = 20) -> list[dict[str, str]]:
        ids = self.redis.zrevrange(self.keys.broadcasts(), 0, count - 1)
        pipe = self.redis.pipeline(transaction=False)
        for i in ids:
            pipe.hgetall(self.keys.broadcast(i.decode()))
        return [_decoded(r) for r in pipe.execute() if r]

    def with_status(self, status: str) -> list[str]:
        ids = [i.decode() for i in self.redis.zrange(self.keys.broadcasts(), 0, -1)]
        pipe = self.redis.pipeline(transaction=False)
        for i in ids:
            pipe.hget(self.keys.broadcast(i), "status")
        return [i for i, s in zip(ids, pipe.execute(), strict=True) if s and s.decode() == status]

    def audience_size(self, groups: list[str]) -> int:
        """Members of any of these groups who have not opted out."""
        if not groups:
            return 0
        keys = [self.keys.group(g) for g in groups]
        tmp = f"{self.keys.prefix}tmp:{uuid.uuid4().hex}"
        pipe = self.redis.pipeline(transaction=True)
        pipe.sunionstore(tmp, keys)
        pipe.sintercard(2, [tmp, self.keys.optouts()])
        pipe.scard(tmp)
        pipe.delete(tmp)
        _, opted_out, total, _ = pipe.execute()
        return total - opted_out

    def snapshot(self, broadcast_id: str, groups: list[str], batch_size: int) -> int:
        """Fix the audience when sending starts: members of the groups, less whoever opted out."""
        keys = [self.keys.group(g) for g in groups]
        union, chosen = (f"{self.keys.prefix}tmp:{uuid.uuid4().hex}" for _ in range(2))
        pipe = self.redis.pipeline(transaction=True)
        if keys:
            pipe.sunionstore(union, keys)
        else:
            pipe.scard(union)  # nothing to unite: an empty audience
        pipe.sdiffstore(chosen, [union, self.keys.optouts()])
        pipe.smembers(chosen)
        pipe.delete(union, chosen)
        total, _, members, _ = pipe.execute()
        phones = sorted(m.decode() for m in members)
        audience = self.keys.audience(broadcast_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(audience)
        for i in range(0, len(phones), 10_000):
            pipe.rpush(audience, *phones[i : i + 10_000])
        batches = (len(phones) + batch_size - 1) // batch_size
        pipe.hset(self.keys.broadcast(broadcast_id), mapping={
            "planned": len(phones), "excluded": total - len(phones), "batches": batches,
            "batch_size": batch_size, "started_at": f"{time.time():.3f}"})  # fmt: skip
        pipe.execute()
        return batches

    def audience_slice(self, broadcast_id: str, batch: int, size: int) -> list[str]:
        rows = self.redis.lrange(self.keys.audience(broadcast_id), batch * size, (batch + 1) * size - 1)
        return [r.decode() for r in rows]

    def step(self, broadcast_id: str, groups: list[str], settled: Settled | None, next_phone: str) -> tuple[str, str]:
        """Record `settled`, then claim `next_phone`: ("go", lang), or why not (skip, excluded, paused...)."""
        k = self.keys
        prev = settled.phone if settled else ""
        keys = [k.broadcast(broadcast_id), k.recipients(broadcast_id), k.optouts(), k.log(),
                k.sent(settled.provider_id) if settled and settled.provider_id else k.broadcast(broadcast_id),
                k.profile(prev) if prev else k.broadcast(broadcast_id),
                k.profile(next_phone) if next_phone else k.broadcast(broadcast_id),
                k.log_index(prev) if prev else k.broadcast(broadcast_id),
                *(k.group(g) for g in groups)]  # fmt: skip
        now = time.time()
        log = _flat(settled.log.fields()) if settled and settled.log else []
        args = [prev, settled.code if settled else "", settled.figure if settled else "",
                settled.provider_id if settled else "", *self.store.log_args(now), SENT_TTL, f"{now:.3f}",
                next_phone, broadcast_id, *log]  # fmt: skip
        outcome, lang = self._step(keys=keys, args=args)
        return outcome.decode(), lang.decode()

    def batch_done(self, broadcast_id: str, batch: int) -> bool:
        k = self.keys
        done = self._done(keys=[k.broadcast(broadcast_id), k.batches_done(broadcast_id)],
                          args=[batch, f"{time.time():.3f}"])  # fmt: skip
        return bool(done)

    def batches_left(self, broadcast_id: str) -> list[int]:
        total = int(self.get(broadcast_id).get("batches", 0))
        done = {int(x) for x in self.redis.smembers(self.keys.batches_done(broadcast_id))}
        return [n for n in range(total) if n not in done]

    def recipient_states(self, broadcast_id: str) -> dict[str, str]:
        return _decoded(self.redis.hgetall(self.keys.recipients(broadcast_id)))


class FieldWorkers:
    """Community health workers: who they are and which groups they may reach."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, store.keys

    def add(self, phone: str, name: str, groups: list[str]) -> None:
        record = {"phone": phone, "name": name, "groups": groups, "added_at": time.time()}
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self.keys.fieldworker(phone), json.dumps(record))
        pipe.sadd(self.keys.fieldworkers(), phone)
        if groups:
            pipe.sadd(self.keys.groups(), *groups)
        pipe.execute()

    def remove(self, phone: str) -> bool:
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.keys.fieldworker(phone))
        pipe.srem(self.keys.fieldworkers(), phone)
        return bool(pipe.execute()[0])

    def get(self, phone: str) -> dict | None:
        return _json(self.redis.get(self.keys.fieldworker(phone)))

    def all(self) -> list[dict]:
        phones = sorted(p.decode() for p in self.redis.smembers(self.keys.fieldworkers()))
        found = self.redis.mget([self.keys.fieldworker(p) for p in phones]) if phones else []
        return [r for r in map(_json, found) if r]

    def broadcasts_on(self, phone: str, day: str) -> int:
        """Broadcasts this field worker sent on `day` (UTC)."""
        return int(self.redis.get(self.keys.daily_count(phone, day)) or 0)

    def count_broadcast(self, phone: str, day: str) -> None:
        key = self.keys.daily_count(phone, day)
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, 2 * 86_400)
        pipe.execute()

    def invite(self, family: str, group: str, by: str, ttl: int) -> None:
        self.redis.set(self.keys.invite(family), json.dumps({"group": group, "by": by}), ex=ttl)

    def groups(self) -> list[str]:
        """Every group a field worker was ever given, sorted."""
        return sorted(g.decode() for g in self.redis.smembers(self.keys.groups()))

    def group_size(self, group: str) -> int:
        return int(self.redis.scard(self.keys.group(group)))
