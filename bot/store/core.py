"""People, conversations, the message log and outbound records: the inbound path's two round trips."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import redis

from bot.menu import Profile
from bot.store.keys import Keys

PARTS_SEPARATOR = "\x1e"  # ASCII record separator: never in a reply


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


# Lua shared by every script that logs a message or hears of an opt-out, so they cannot drift.
_LOG_LUA = """
local function append_log(log, index, maxlen, minid, ttl_ms, entry)
  local id = redis.call('XADD', log, 'MAXLEN', '~', maxlen, '*', unpack(entry))
  redis.call('ZADD', index, tonumber(string.match(id, '^(%d+)')), id)
  redis.call('XTRIM', log, 'MINID', '~', minid)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. minid)
  redis.call('PEXPIRE', index, ttl_ms)
end
local function record_sent(sent, ttl, phone, status, broadcast)
  redis.call('HSET', sent, 'phone', phone, 'status', status)
  if broadcast ~= '' then redis.call('HSET', sent, 'broadcast', broadcast) end
  redis.call('EXPIRE', sent, ttl)
end
local function opt_out(profile, optouts, phone, now)
  redis.call('HSET', profile, 'opted_out', '1', 'opted_out_at', now)
  redis.call('HINCRBY', profile, 'rev', 1)  -- a message being answered from the old profile must retry
  redis.call('SADD', optouts, phone)
end
"""

# KEYS: profile, dedupe, log, the person's log index, then one key per write
# ARGV: rev, has_dedupe, dedupe_value, dedupe_ttl, maxlen, minid, retention ms, n_profile_fields, fields...,
#       per write: command, n_args, args...; then per log entry: n_fields, fields...
_COMMIT = (
    _LOG_LUA
    + """
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
  append_log(KEYS[3], KEYS[4], ARGV[5], ARGV[6], ARGV[7], entry)
  i = i + n + 1
end
return {'ok', ''}
"""
)


# An outbound SMS and what the gateway said. KEYS: log, log index, sent (or the index when
# there is no provider id), profile, optouts. ARGV: maxlen, minid, retention ms, sent ttl,
# phone, provider id, status, broadcast, o (opted out) v (invalid) or '', now, log fields...
_SEND = (
    _LOG_LUA
    + """
local entry = {}
for j = 11, #ARGV do entry[#entry + 1] = ARGV[j] end
append_log(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], entry)
if ARGV[6] ~= '' then record_sent(KEYS[3], ARGV[4], ARGV[5], ARGV[7], ARGV[8]) end
if ARGV[9] == 'o' then opt_out(KEYS[4], KEYS[5], ARGV[5], ARGV[10]) end
if ARGV[9] == 'v' then redis.call('HSET', KEYS[4], 'invalid', '1') end
return 1
"""
)

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

SENT_TTL = 7 * 86_400  # delivery reports can arrive days late

# KEYS: sent:<id>. ARGV: status, reason, now, the broadcast keys' prefix. Reports arrive out
# of order: a final status (delivered, failed, undelivered) is never replaced by a later
# non-final one. A broadcast message moves its broadcast's figures in the same step; the
# broadcast's key is only known here, from the sent record (fine on one Redis, not a cluster).
_STATUS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown', '', ''} end
local current = redis.call('HGET', KEYS[1], 'status') or ''
local broadcast = redis.call('HGET', KEYS[1], 'broadcast') or ''
local final = {delivered = true, failed = true, undelivered = true}
if final[current] and not final[ARGV[1]] then return {'kept', current, broadcast} end
if current == ARGV[1] then return {'same', current, broadcast} end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'status_at', ARGV[3])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'reason', ARGV[2]) end
if broadcast ~= '' then
  local figure = {delivered = 'delivered', undelivered = 'undelivered', failed = 'undelivered'}
  if figure[current] then redis.call('HINCRBY', ARGV[4] .. broadcast, figure[current], -1) end
  if figure[ARGV[1]] then redis.call('HINCRBY', ARGV[4] .. broadcast, figure[ARGV[1]], 1) end
end
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
        self._send = client.register_script(_SEND)
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
        profile = _decoded(raw_profile)
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
            "invalid": "0",  # they just reached us from this number, whatever a gateway said before
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
            *self.log_args(now),
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

    # -- content ----------------------------------------------------------------------

    def content_generation(self) -> int:
        return int(self.redis.get(self.keys.content_generation()) or 0)

    def publish_content(self) -> int:
        return int(self.redis.incr(self.keys.content_generation()))

    # -- outbound ---------------------------------------------------------------------

    def take_tokens(self, bucket: str, cost: int, rate: float) -> float:
        """Draw `cost` segments from a shared bucket; return 0, or the seconds to wait first."""
        return int(self._take(keys=[self.keys.rate(bucket)], args=[rate, max(rate, cost), cost])) / 1000

    def log_args(self, now: float) -> list[str]:
        """What `append_log` needs: the log's length cap, the oldest id kept, the index's expiry."""
        return [str(self.log_max), str(int(now * 1000) - self.log_retention_ms), str(self.log_retention_ms)]

    def record_send(self, phone: str, entry: LogEntry, provider_id: str, *, opted_out: bool = False,
                    invalid: bool = False) -> None:  # fmt: skip
        """Log an outbound SMS and what the gateway said, in one round trip."""
        k, now = self.keys, time.time()
        flag = "o" if opted_out else "v" if invalid else ""
        keys = [k.log(), k.log_index(phone), k.sent(provider_id) if provider_id else k.log_index(phone),
                k.profile(phone), k.optouts()]  # fmt: skip
        args = [*self.log_args(now), SENT_TTL, phone, provider_id, entry.status or "sent", entry.broadcast, flag,
                f"{now:.3f}", *_flat(entry.fields())]  # fmt: skip
        self._send(keys=keys, args=args)

    def record_status(self, provider_id: str, status: str, *, reason: str = "") -> StatusChange:
        """A delivery report, and its broadcast's figures, in one atomic step.

        Returns "updated", "same", "kept" (final already) or "unknown" (not ours).
        """
        result, before, broadcast = self._status(
            keys=[self.keys.sent(provider_id)], args=[status, reason, f"{time.time():.3f}", self.keys.broadcast("")]
        )
        return StatusChange(result.decode(), before.decode(), broadcast.decode())

    def sent_fields(self, provider_id: str) -> dict[str, str]:
        return _decoded(self.redis.hgetall(self.keys.sent(provider_id)))

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
        return _rows(rows)

    def person_log(self, phone: str, count: int = 50, before: str = "+inf") -> list[tuple[str, dict[str, str]]]:
        """One person's log entries, newest first, from their index (no scan of the whole log)."""
        ids = self.redis.zrevrangebyscore(self.keys.log_index(phone), before, "-inf", start=0, num=count)
        pipe = self.redis.pipeline(transaction=False)
        for entry_id in ids:
            pipe.xrange(self.keys.log(), entry_id, entry_id)
        # An id trimmed from the log by retention finds no entry, and drops out here.
        return [row for found in pipe.execute() for row in _rows(found)]

    def profile_fields(self, phone: str) -> dict[str, str]:
        return _decoded(self.redis.hgetall(self.keys.profile(phone)))


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


def _decoded(raw: Mapping[bytes, bytes]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


def _rows(raw) -> list[tuple[str, dict[str, str]]]:
    """Stream entries as (id, fields)."""
    return [(i.decode(), _decoded(f)) for i, f in raw]


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
