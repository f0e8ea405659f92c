"""Redis: the one module that knows key names and talks to the server.

An inbound message costs two round trips: one pipeline reads the dedupe marker, the
conversation state and the profile; one Lua script then checks nothing changed since
(the profile's `rev`) and writes state, profile, dedupe marker and log entries at once.
Two messages from one number racing each other cannot both win: the loser re-reads
and steps again (optimistic concurrency, like WATCH/MULTI but in one round trip).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import redis

from bot.menu import Profile

PARTS_SEPARATOR = "\x1e"  # ASCII record separator: never in a reply


class Keys:
    """Every key name factsbot uses, under one prefix (so tests and deployments can share a server)."""

    def __init__(self, prefix: str = "factsbot:"):
        self.prefix = prefix

    def session(self, phone: str) -> str:
        return f"{self.prefix}session:{phone}"

    def ussd(self, session_id: str) -> str:
        return f"{self.prefix}ussd:{session_id}"

    def resume(self, phone: str) -> str:
        """Where a USSD session that dropped mid-topic left off."""
        return f"{self.prefix}resume:{phone}"

    def profile(self, phone: str) -> str:
        return f"{self.prefix}profile:{phone}"

    def dedupe(self, channel: str, message_id: str) -> str:
        return f"{self.prefix}seen:{channel}:{message_id}"

    def log(self) -> str:
        return f"{self.prefix}log"

    def log_index(self, phone: str) -> str:
        """One person's entries in the log (ids by time): their conversation, found without a scan."""
        return f"{self.prefix}log:by:{phone}"

    def optouts(self) -> str:
        """Everyone who opted out, kept beside the profiles so audiences are one set operation."""
        return f"{self.prefix}optouts"

    def group(self, name: str) -> str:
        return f"{self.prefix}group:{name}"

    def groups(self) -> str:
        return f"{self.prefix}groups"

    def invite(self, phone: str) -> str:
        return f"{self.prefix}invite:{phone}"

    def fieldworker(self, phone: str) -> str:
        return f"{self.prefix}fieldworker:{phone}"

    def fieldworkers(self) -> str:
        return f"{self.prefix}fieldworkers"

    def pending_broadcast(self, phone: str) -> str:
        """A field worker's broadcast waiting for YES."""
        return f"{self.prefix}pending:{phone}"

    def daily_count(self, phone: str, day: str) -> str:
        return f"{self.prefix}count:{day}:{phone}"

    def drip(self) -> str:
        """Subscriptions by when their next tip is due: members are "phone|topic"."""
        return f"{self.prefix}drip"

    def drip_position(self) -> str:
        return f"{self.prefix}drip:position"

    def broadcasts(self) -> str:
        return f"{self.prefix}broadcasts"

    def broadcast_seq(self) -> str:
        return f"{self.prefix}broadcast:seq"

    def audience(self, broadcast_id: str) -> str:
        return f"{self.prefix}broadcast:{broadcast_id}:audience"

    def recipients(self, broadcast_id: str) -> str:
        """Each recipient's state in a broadcast: i in flight, s sent, f failed, x excluded, o opted out."""
        return f"{self.prefix}broadcast:{broadcast_id}:recipients"

    def batches_done(self, broadcast_id: str) -> str:
        return f"{self.prefix}broadcast:{broadcast_id}:done"

    def rate(self, name: str) -> str:
        """The token bucket every worker draws from for one provider."""
        return f"{self.prefix}rate:{name}"

    def broadcast(self, broadcast_id: str) -> str:
        return f"{self.prefix}broadcast:{broadcast_id}"

    def sent(self, provider_id: str) -> str:
        """What we know of one outbound message, by the gateway's id (for delivery reports)."""
        return f"{self.prefix}sent:{provider_id}"


@dataclass(frozen=True)
class Loaded:
    state: dict | None  # the conversation state (JSON) under the state key
    profile: Profile
    rev: str
    first_seen: str
    duplicate: tuple[str, ...] | None  # the parts already sent, when this message was seen before
    extras: dict[str, dict | None] = field(default_factory=dict)  # other keys read alongside, as JSON


@dataclass(frozen=True)
class Write:
    """Set a key to JSON with an expiry, or delete it (value None)."""

    key: str
    value: dict | None
    ttl: int = 0

    def op(self) -> Op:
        if self.value is None:
            return Op("DEL", self.key)
        return Op("SET", self.key, json.dumps(self.value, separators=(",", ":")), "EX", str(self.ttl))


@dataclass(frozen=True)
class Op:
    """One more command for a commit to run atomically: SADD, SREM, ZADD, ZREM, HSET, HDEL, SET, DEL."""

    command: str
    key: str
    args: tuple[str, ...] = ()

    def __init__(self, command: str, key: str, *args: str):
        object.__setattr__(self, "command", command)
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "args", tuple(str(a) for a in args))


@dataclass(frozen=True)
class LogEntry:
    direction: str  # "in" or "out"
    channel: str
    phone: str
    text: str
    event: str = ""
    topic: str = ""
    message: str = ""
    message_id: str = ""
    parts: str = ""  # how many SMS an outbound text took
    status: str = ""  # outbound: sent, failed, opted_out, invalid, delivered...
    reason: str = ""  # a failure in plain words
    broadcast: str = ""

    def fields(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


# KEYS: profile, dedupe, log, the person's log index, then one key per write
# ARGV: rev, has_dedupe, dedupe_value, dedupe_ttl, maxlen, minid, retention ms, n_profile_fields, fields...,
#       per write: command, n_args, args...; then per log entry: n_fields, fields...
_COMMIT = """
if ARGV[2] == '1' then
  local seen = redis.call('GET', KEYS[2])
  if seen then return {'duplicate', seen} end
end
local rev = redis.call('HGET', KEYS[1], 'rev') or '0'
if rev ~= ARGV[1] then return {'conflict', rev} end
local i = 8
local n = tonumber(ARGV[i])
local profile = {'rev', tostring(tonumber(rev) + 1)}
for j = 1, n do profile[#profile + 1] = ARGV[i + j] end
redis.call('HSET', KEYS[1], unpack(profile))
i = i + n + 1
local allowed = {SET = true, DEL = true, SADD = true, SREM = true, ZADD = true, ZREM = true, HSET = true, HDEL = true}
for k = 5, #KEYS do
  local command, count = ARGV[i], tonumber(ARGV[i + 1])
  if not allowed[command] then return redis.error_reply('command not allowed in commit: ' .. command) end
  local args = {}
  for j = 1, count do args[j] = ARGV[i + 1 + j] end
  redis.call(command, KEYS[k], unpack(args))
  i = i + 2 + count
end
if ARGV[2] == '1' then redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4]) end
while i <= #ARGV do
  n = tonumber(ARGV[i])
  local entry = {}
  for j = 1, n do entry[j] = ARGV[i + j] end
  local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', unpack(entry))
  redis.call('ZADD', KEYS[4], tonumber(string.match(id, '^(%d+)')), id)
  i = i + n + 1
end
redis.call('XTRIM', KEYS[3], 'MINID', '~', ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[6])
redis.call('PEXPIRE', KEYS[4], ARGV[7])
return {'ok', ''}
"""


# KEYS: bucket. ARGV: rate (tokens per second), capacity, cost. Returns 0, or ms to wait.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, capacity, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or capacity
local ts = tonumber(b[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate / 1000)
local wait = 0
if tokens >= cost then tokens = tokens - cost else wait = math.ceil((cost - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
return wait
"""

# Final delivery reports -> the broadcast figure they count toward.
REPORTED = {"delivered": "delivered", "undelivered": "undelivered", "failed": "undelivered"}
SENT_TTL = 7 * 86_400  # delivery reports can arrive days late

# KEYS: sent:<id>. ARGV: status, reason, now. Reports arrive out of order: a final status
# (delivered, failed, undelivered) is never replaced by a later non-final one.
_STATUS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown', '', ''} end
local current = redis.call('HGET', KEYS[1], 'status') or ''
local broadcast = redis.call('HGET', KEYS[1], 'broadcast') or ''
local final = {delivered = true, failed = true, undelivered = true}
if final[current] and not final[ARGV[1]] then return {'kept', current, broadcast} end
if current == ARGV[1] then return {'same', current, broadcast} end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'status_at', ARGV[3])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'reason', ARGV[2]) end
return {'updated', current, broadcast}
"""


@dataclass(frozen=True)
class StatusChange:
    result: str  # updated, same, kept, unknown
    before: str
    broadcast: str


class Store:
    """Sessions, profiles, dedupe markers and the message log of one deployment."""

    def __init__(self, client: redis.Redis, config: Mapping):
        self.redis = client
        self.keys = Keys(config["REDIS_PREFIX"])
        self.session_ttl = int(config["SESSION_IDLE_SECONDS"])
        self.first_drip_delay = int(config["DRIP_FIRST_DELAY_SECONDS"])
        self.dedupe_ttl = int(config["DEDUPE_SECONDS"])
        self.log_max = int(config["LOG_MAX_ENTRIES"])
        self.log_retention_ms = int(config["LOG_RETENTION_DAYS"]) * 86_400_000
        self._commit = client.register_script(_COMMIT)
        self._take = client.register_script(_TAKE)
        self._status = client.register_script(_STATUS)

    def ping(self) -> bool:
        return bool(self.redis.ping())

    def load(self, phone: str, state_key: str, dedupe_key: str = "", extra_keys: Sequence[str] = ()) -> Loaded:
        """One round trip: the dedupe marker, the state, the profile and any extra keys."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(dedupe_key or state_key)
        pipe.get(state_key)
        pipe.hgetall(self.keys.profile(phone))
        for key in extra_keys:
            pipe.get(key)
        seen, raw_state, raw_profile, *extras = pipe.execute()
        profile = {k.decode(): v.decode() for k, v in raw_profile.items()}
        return Loaded(
            state=_json(raw_state),
            profile=profile_from(profile),
            rev=profile.get("rev", "0"),
            first_seen=profile.get("first_seen", ""),
            duplicate=_parts(seen) if dedupe_key and seen is not None else None,
            extras={key: _json(raw) for key, raw in zip(extra_keys, extras, strict=True)},
        )

    def commit(
        self,
        phone: str,
        loaded: Loaded,
        profile: Profile,
        writes: Sequence[Write | Op],
        log: Iterable[LogEntry],
        *,
        dedupe_key: str = "",
        parts: tuple[str, ...] = (),
        now: float | None = None,
    ) -> tuple[str, tuple[str, ...]]:
        """One round trip. Returns ("ok", parts), ("duplicate", parts sent before) or ("conflict", ())."""
        now = time.time() if now is None else now
        fields = {
            "lang": profile.lang,
            "country": profile.country,
            "opted_out": "1" if profile.opted_out else "0",
            "subs": ",".join(profile.subscriptions),
            "groups": ",".join(profile.groups),
            "last_seen": f"{now:.3f}",
            "first_seen": loaded.first_seen or f"{now:.3f}",
        }
        ops = [w.op() if isinstance(w, Write) else w for w in writes]
        ops += self.membership_ops(phone, loaded.profile, profile, now)
        if profile.opted_out != loaded.profile.opted_out:
            fields["opted_out_at" if profile.opted_out else "opted_in_at"] = f"{now:.3f}"
        args: list[str] = [
            loaded.rev,
            "1" if dedupe_key else "0",
            PARTS_SEPARATOR.join(parts),
            str(self.dedupe_ttl),
            str(self.log_max),
            str(int(now * 1000) - self.log_retention_ms),
            str(self.log_retention_ms),
            str(len(fields) * 2),
            *_flat(fields),
        ]
        for op in ops:
            args += [op.command, str(len(op.args)), *op.args]
        for entry in log:
            flat = _flat(entry.fields())
            args += [str(len(flat)), *flat]
        keys = [self.keys.profile(phone), dedupe_key or self.keys.profile(phone), self.keys.log(),
                self.keys.log_index(phone), *(op.key for op in ops)]  # fmt: skip
        status, value = self._commit(keys=keys, args=args)
        status = status.decode()
        if status == "duplicate":
            return status, _parts(value)
        return status, parts if status == "ok" else ()

    # -- outbound ---------------------------------------------------------------------

    def is_opted_out(self, phone: str) -> bool:
        return self.redis.hget(self.keys.profile(phone), "opted_out") == b"1"

    def take_tokens(self, bucket: str, cost: int, rate: float) -> float:
        """Draw `cost` segments from a shared bucket; return 0, or the seconds to wait first."""
        return int(self._take(keys=[self.keys.rate(bucket)], args=[rate, max(rate, cost), cost])) / 1000

    def record_send(self, phone: str, entry: LogEntry, provider_id: str, *, opted_out: bool = False,
                    invalid: bool = False, extra: Mapping[str, str] | None = None) -> None:  # fmt: skip
        """Log an outbound SMS and what the gateway said, in one round trip."""
        entry_id = self.redis.xadd(self.keys.log(), entry.fields(), maxlen=self.log_max, approximate=True)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zadd(self.keys.log_index(phone), {entry_id: int(entry_id.split(b"-")[0])})
        pipe.pexpire(self.keys.log_index(phone), self.log_retention_ms)
        if provider_id:
            fields = {"phone": phone, "status": entry.status or "sent", **(extra or {})}
            if entry.broadcast:
                fields["broadcast"] = entry.broadcast
            pipe.hset(self.keys.sent(provider_id), mapping=fields)
            pipe.expire(self.keys.sent(provider_id), SENT_TTL)
        if opted_out:
            pipe.hset(self.keys.profile(phone), mapping={"opted_out": "1", "opted_out_at": f"{time.time():.3f}"})
            pipe.sadd(self.keys.optouts(), phone)
        if invalid:
            pipe.hset(self.keys.profile(phone), "invalid", "1")
        pipe.execute()

    def record_status(self, provider_id: str, status: str, *, reason: str = "") -> StatusChange:
        """A delivery report: "updated", "same", "kept" (final already) or "unknown" (not ours)."""
        result, before, broadcast = self._status(
            keys=[self.keys.sent(provider_id)], args=[status, reason, f"{time.time():.3f}"]
        )
        return StatusChange(result.decode(), before.decode(), broadcast.decode())

    def broadcast_moved(self, broadcast_id: str, before: str, after: str) -> None:
        """A broadcast message's delivery report changed its status: keep the figures in step."""
        pipe = self.redis.pipeline(transaction=True)
        key = self.keys.broadcast(broadcast_id)
        if REPORTED.get(before):
            pipe.hincrby(key, REPORTED[before], -1)
        if REPORTED.get(after):
            pipe.hincrby(key, REPORTED[after], 1)
        pipe.execute()

    def sent_fields(self, provider_id: str) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.redis.hgetall(self.keys.sent(provider_id)).items()}

    def membership_ops(self, phone: str, before: Profile, after: Profile, now: float) -> list[Op]:
        """Keep the sets that audiences are built from in step with a person's profile."""
        ops = []
        if after.opted_out != before.opted_out:
            ops.append(Op("SADD" if after.opted_out else "SREM", self.keys.optouts(), phone))
        for group in set(after.groups) - set(before.groups):
            ops.append(Op("SADD", self.keys.group(group), phone))
        for group in set(before.groups) - set(after.groups):
            ops.append(Op("SREM", self.keys.group(group), phone))
        for topic in set(after.subscriptions) - set(before.subscriptions):
            ops.append(Op("ZADD", self.keys.drip(), f"{now + self.first_drip_delay:.0f}", f"{phone}|{topic}"))
            ops.append(Op("HSET", self.keys.drip_position(), f"{phone}|{topic}", "0"))
        for topic in set(before.subscriptions) - set(after.subscriptions):
            ops.append(Op("ZREM", self.keys.drip(), f"{phone}|{topic}"))
            ops.append(Op("HDEL", self.keys.drip_position(), f"{phone}|{topic}"))
        return ops

    def log_entries(self, count: int = 100) -> list[tuple[str, dict[str, str]]]:
        """Newest first, for operators and tests."""
        rows = self.redis.xrevrange(self.keys.log(), count=count)
        return [(i.decode(), {k.decode(): v.decode() for k, v in f.items()}) for i, f in rows]

    def person_log(self, phone: str, count: int = 50, before: str = "+inf") -> list[tuple[str, dict[str, str]]]:
        """One person's log entries, newest first, from their index (no scan of the whole log)."""
        ids = self.redis.zrevrangebyscore(self.keys.log_index(phone), before, "-inf", start=0, num=count)
        pipe = self.redis.pipeline(transaction=False)
        for entry_id in ids:
            pipe.xrange(self.keys.log(), entry_id, entry_id)
        rows = []
        for found in pipe.execute():
            for i, f in found:  # an id trimmed from the log by retention has no entry left
                rows.append((i.decode(), {k.decode(): v.decode() for k, v in f.items()}))
        return rows

    def profile_fields(self, phone: str) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.redis.hgetall(self.keys.profile(phone)).items()}


class CountingConnection(redis.Connection):
    """A connection that counts round trips (one send each; a pipeline sends once), for tests and benchmarks."""

    sends = 0

    def send_packed_command(self, command, check_health=True):
        type(self).sends += 1
        return super().send_packed_command(command, check_health)


def counting_client(url: str) -> redis.Redis:
    pool = redis.ConnectionPool(connection_class=CountingConnection, **redis.connection.parse_url(url))
    return redis.Redis(connection_pool=pool)


def profile_from(fields: Mapping[str, str]) -> Profile:
    return Profile(
        lang=fields.get("lang", ""),
        country=fields.get("country", ""),
        opted_out=fields.get("opted_out") == "1",
        subscriptions=tuple(filter(None, fields.get("subs", "").split(","))),
        groups=tuple(filter(None, fields.get("groups", "").split(","))),
    )


def _flat(fields: Mapping[str, str]) -> list[str]:
    return [x for kv in fields.items() for x in kv]


def _json(raw: bytes | None) -> dict | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _parts(raw: bytes) -> tuple[str, ...]:
    text = raw.decode()
    return tuple(text.split(PARTS_SEPARATOR)) if text else ()


# -- broadcasts -----------------------------------------------------------------------------

# One round trip per recipient: record what happened to the previous one, then claim the
# next. A claim marks the recipient "i" (in flight) before the provider is called, so a
# worker killed mid-send leaves "i" behind: never sent again, counted as unknown.
# KEYS: broadcast, recipients, optouts, log, sent(prev id), profile(prev), profile(next), log index(prev), groups...
# ARGV: prev phone, prev code (s f o v, or r: release), prev figure, prev provider id,
#       log maxlen, n log fields, log fields..., next phone, broadcast id
_BROADCAST_STEP = """
local nlog = tonumber(ARGV[6])
local i = 7 + nlog
local prev = ARGV[1]
if prev ~= '' then
  redis.call('HINCRBY', KEYS[1], 'inflight', -1)
  if ARGV[2] == 'r' then
    redis.call('HDEL', KEYS[2], prev)
  else
    redis.call('HSET', KEYS[2], prev, ARGV[2])
    redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
    if nlog > 0 then
      local entry = {}
      for j = 1, nlog do entry[j] = ARGV[6 + j] end
      local id = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', unpack(entry))
      redis.call('ZADD', KEYS[8], tonumber(string.match(id, '^(%d+)')), id)
    end
    if ARGV[4] ~= '' then
      redis.call('HSET', KEYS[5], 'phone', prev, 'status', 'sent', 'broadcast', ARGV[i + 1])
      redis.call('EXPIRE', KEYS[5], 604800)
    end
    if ARGV[2] == 'o' then
      redis.call('SADD', KEYS[3], prev)
      redis.call('HSET', KEYS[6], 'opted_out', '1')
    end
  end
end
local nxt = ARGV[i]
if nxt == '' then return {'none', ''} end
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'sending' then return {status or 'missing', ''} end
if redis.call('HEXISTS', KEYS[2], nxt) == 1 then return {'skip', ''} end
local member = false
for k = 9, #KEYS do
  if redis.call('SISMEMBER', KEYS[k], nxt) == 1 then member = true break end
end
if not member or redis.call('SISMEMBER', KEYS[3], nxt) == 1 then
  redis.call('HSET', KEYS[2], nxt, 'x')
  redis.call('HINCRBY', KEYS[1], 'excluded', 1)
  return {'excluded', ''}
end
redis.call('HSET', KEYS[2], nxt, 'i')
redis.call('HINCRBY', KEYS[1], 'inflight', 1)
return {'go', redis.call('HGET', KEYS[7], 'lang') or ''}
"""

# KEYS: broadcast, done set. ARGV: batch number. Returns 1 when every batch is done.
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
        return {k.decode(): v.decode() for k, v in self.redis.hgetall(self.keys.broadcast(broadcast_id)).items()}

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
        ids = [i.decode() for i in self.redis.zrevrange(self.keys.broadcasts(), 0, count - 1)]
        return [self.get(i) for i in ids]

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
        log = _flat(settled.log.fields()) if settled and settled.log else []
        args = [prev, settled.code if settled else "", settled.figure if settled else "",
                settled.provider_id if settled else "", self.store.log_max, len(log), *log, next_phone,
                broadcast_id]  # fmt: skip
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
        raw = self.redis.hgetall(self.keys.recipients(broadcast_id))
        return {k.decode(): v.decode() for k, v in raw.items()}


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
        return [r for r in (self.get(p) for p in phones) if r]

    def count_today(self, phone: str, day: str) -> int:
        """Count one more broadcast for today; returns the new count."""
        key = self.keys.daily_count(phone, day)
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, 2 * 86_400)
        return int(pipe.execute()[0])

    def invite(self, family: str, group: str, by: str, ttl: int) -> None:
        self.redis.set(self.keys.invite(family), json.dumps({"group": group, "by": by}), ex=ttl)

    def group_size(self, group: str) -> int:
        return int(self.redis.scard(self.keys.group(group)))


# -- operator dashboard -------------------------------------------------------------------

AUDIT_MAX = 100_000  # the audit stream keeps about this many entries, bounded like the message log
DAY_TTL = 40 * 86_400  # per-day figures outlive the longest window the overview shows (30 days)
REFS_TTL = 30 * 86_400  # a link to a person keeps working this long after it was last shown


class DashboardKeys(Keys):
    """Key names of the operator dashboard, beside the service's own under the same prefix."""

    def user(self, email: str) -> str:
        return f"{self.prefix}dash:user:{email}"

    def users(self) -> str:
        return f"{self.prefix}dash:users"

    def login_failures(self, kind: str, value: str) -> str:
        """Failed logins in the current window, per email or per client address."""
        return f"{self.prefix}dash:login:{kind}:{value}"

    def audit(self) -> str:
        return f"{self.prefix}dash:audit"

    def person_refs(self) -> str:
        """Opaque link references -> phone numbers, so no URL carries a family's number."""
        return f"{self.prefix}dash:refs"

    def day(self, day: str) -> str:
        """One UTC day's counters (in, out, reads per topic...), rolled up from the log."""
        return f"{self.prefix}dash:day:{day}"

    def day_people(self, day: str) -> str:
        """A HyperLogLog of the numbers that wrote in that day: unique people over any window."""
        return f"{self.prefix}dash:people:{day}"

    def rollup_cursor(self) -> str:
        return f"{self.prefix}dash:rollup:cursor"

    def rollup_lock(self) -> str:
        return f"{self.prefix}dash:rollup:lock"

    def cache(self, name: str) -> str:
        return f"{self.prefix}dash:cache:{name}"

    def profile_pattern(self) -> str:
        """SCAN pattern matching every profile key (for counts per language)."""
        return f"{self.prefix}profile:*"


def _decoded(raw: Mapping[bytes, bytes]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


def _rows(raw) -> list[tuple[str, dict[str, str]]]:
    return [(i.decode(), _decoded(f)) for i, f in raw]


class Users:
    """Dashboard accounts: one hash per email (role, password hash, session token)."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, DashboardKeys(store.keys.prefix)

    def get(self, email: str) -> dict[str, str] | None:
        return _decoded(self.redis.hgetall(self.keys.user(email))) or None

    def save(self, email: str, fields: Mapping[str, str]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.keys.user(email), mapping={"email": email, **fields})
        pipe.sadd(self.keys.users(), email)
        pipe.execute()

    def remove(self, email: str) -> bool:
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(self.keys.user(email))
        pipe.srem(self.keys.users(), email)
        return bool(pipe.execute()[0])

    def all(self) -> list[dict[str, str]]:
        emails = sorted(e.decode() for e in self.redis.smembers(self.keys.users()))
        pipe = self.redis.pipeline(transaction=False)
        for email in emails:
            pipe.hgetall(self.keys.user(email))
        return [_decoded(r) for r in pipe.execute() if r]


class LoginFailures:
    """Failed logins counted in fixed windows, per email and per client address."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, DashboardKeys(store.keys.prefix)

    def counts(self, subjects: Sequence[tuple[str, str]]) -> list[int]:
        pipe = self.redis.pipeline(transaction=False)
        for kind, value in subjects:
            pipe.get(self.keys.login_failures(kind, value))
        return [int(n or 0) for n in pipe.execute()]

    def add(self, subjects: Sequence[tuple[str, str]], window: int) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for kind, value in subjects:
            key = self.keys.login_failures(kind, value)
            pipe.incr(key)
            pipe.expire(key, window, nx=True)  # the window starts at the first failure
        pipe.execute()

    def clear(self, kind: str, value: str) -> None:
        self.redis.delete(self.keys.login_failures(kind, value))


class Audit:
    """Who did what in the dashboard: a bounded stream, newest read first."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, DashboardKeys(store.keys.prefix)

    def add(self, actor: str, action: str, **details: str) -> str:
        fields = {"actor": actor, "action": action, **{k: str(v) for k, v in details.items() if v != ""}}
        return self.redis.xadd(self.keys.audit(), fields, maxlen=AUDIT_MAX, approximate=True).decode()

    def recent(self, count: int = 100, before: str = "") -> list[tuple[str, dict[str, str]]]:
        return _rows(self.redis.xrevrange(self.keys.audit(), f"({before}" if before else "+", "-", count=count))


class LogQuery:
    """Reads of the message log for operators: pages newest first, one entry, one person's thread."""

    def __init__(self, store: Store):
        self.store, self.redis, self.keys = store, store.redis, store.keys

    def length(self) -> int:
        return int(self.redis.xlen(self.keys.log()))

    def person_length(self, phone: str) -> int:
        return int(self.redis.zcard(self.keys.log_index(phone)))

    def newest(self, count: int, newest: str = "+", oldest: str = "-") -> list[tuple[str, dict[str, str]]]:
        """Up to `count` entries from `newest` back to `oldest` (stream ids; "(" makes a bound exclusive)."""
        return _rows(self.redis.xrevrange(self.keys.log(), newest, oldest, count=count))

    def oldest_first(self, count: int, after: str) -> list[tuple[str, dict[str, str]]]:
        """Up to `count` entries after stream id `after` (exclusive), oldest first."""
        return _rows(self.redis.xrange(self.keys.log(), f"({after}" if after != "-" else "-", "+", count=count))

    def entry(self, entry_id: str) -> dict[str, str] | None:
        found = self.redis.xrange(self.keys.log(), entry_id, entry_id)
        return _decoded(found[0][1]) if found else None

    def person(self, phone: str, count: int, before_ms: str = "+inf") -> list[tuple[str, dict[str, str]]]:
        return self.store.person_log(phone, count=count, before=before_ms)


class DailyFigures:
    """Per-day counters rolled up from the log (so the overview never rereads a month of messages)."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, DashboardKeys(store.keys.prefix)

    def cursor(self) -> str:
        """The last log id counted, or "" before the first roll-up."""
        return (self.redis.get(self.keys.rollup_cursor()) or b"").decode()

    def lock(self, ttl_ms: int) -> bool:
        """Only one process rolls up at a time: two would count the same entries twice."""
        return bool(self.redis.set(self.keys.rollup_lock(), "1", nx=True, px=ttl_ms))

    def unlock(self) -> None:
        self.redis.delete(self.keys.rollup_lock())

    def add(self, counts: Mapping[str, Mapping[str, int]], people: Mapping[str, Iterable[str]], cursor: str) -> None:
        """Add counts and people per day and move the cursor, atomically."""
        pipe = self.redis.pipeline(transaction=True)
        for day, fields in counts.items():
            for name, n in fields.items():
                pipe.hincrby(self.keys.day(day), name, n)
            pipe.expire(self.keys.day(day), DAY_TTL)
        for day, phones in people.items():
            phones = list(phones)
            if phones:
                pipe.pfadd(self.keys.day_people(day), *phones)
                pipe.expire(self.keys.day_people(day), DAY_TTL)
        pipe.set(self.keys.rollup_cursor(), cursor)
        pipe.execute()

    def read(self, days: Sequence[str], windows: Sequence[int]) -> tuple[list[dict[str, int]], list[int]]:
        """Counters of each day, and unique people over the last n days for each n in `windows`."""
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(self.keys.day(day))
        for n in windows:
            pipe.pfcount(*(self.keys.day_people(d) for d in days[-n:]))
        found = pipe.execute()
        per_day = [{k.decode(): int(v) for k, v in raw.items()} for raw in found[: len(days)]]
        return per_day, [int(n) for n in found[len(days) :]]


class PersonRefs:
    """Opaque references to people, for links that must not carry a phone number."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, DashboardKeys(store.keys.prefix)

    def remember(self, refs: Mapping[str, str]) -> None:
        if refs:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hset(self.keys.person_refs(), mapping=dict(refs))
            pipe.expire(self.keys.person_refs(), REFS_TTL)
            pipe.execute()

    def phone(self, ref: str) -> str | None:
        found = self.redis.hget(self.keys.person_refs(), ref)
        return found.decode() if found else None


class Audiences:
    """Who can be reached: subscriptions per topic, members per group, people per language."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, DashboardKeys(store.keys.prefix)

    def subscriptions(self, budget: int) -> tuple[list[str], bool]:
        """Drip members ("phone|topic"), up to `budget`; and whether that was all of them."""
        members: list[str] = []
        for member, _ in self.redis.zscan_iter(self.keys.drip(), count=5000):
            members.append(member.decode())
            if len(members) >= budget:
                return members, False
        return members, True

    def groups(self) -> dict[str, int]:
        names = sorted(g.decode() for g in self.redis.smembers(self.keys.groups()))
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.scard(self.keys.group(name))
        return dict(zip(names, (int(n) for n in pipe.execute()), strict=True))

    def opted_out(self) -> int:
        return int(self.redis.scard(self.keys.optouts()))

    def languages(self, budget: int) -> tuple[dict[str, int], bool]:
        """People per language, reading at most `budget` profiles; and whether that was all."""
        counts: dict[str, int] = {}
        batch: list[bytes] = []
        seen = 0

        def flush() -> None:
            pipe = self.redis.pipeline(transaction=False)
            for key in batch:
                pipe.hget(key, "lang")
            for lang in pipe.execute():
                code = (lang or b"").decode() or "?"
                counts[code] = counts.get(code, 0) + 1
            batch.clear()

        for key in self.redis.scan_iter(match=self.keys.profile_pattern(), count=5000):
            batch.append(key)
            seen += 1
            if len(batch) >= 5000:
                flush()
            if seen >= budget:
                flush()
                return counts, False
        flush()
        return counts, True

    def cached(self, name: str) -> dict | None:
        return _json(self.redis.get(self.keys.cache(name)))

    def cache(self, name: str, value: dict, ttl: int) -> None:
        self.redis.set(self.keys.cache(name), json.dumps(value), ex=ttl)
