"""People and their conversations: profiles and conversation state, read in one round trip, written in one.

An inbound message costs two round trips: one pipeline reads the dedupe marker, the
conversation state and the profile; one Lua script then checks nothing changed since
(the profile's `rev`) and writes state, profile, dedupe marker and log entries at once.
Two messages from one number racing each other cannot both win: the loser re-reads
and steps again (optimistic concurrency, like WATCH/MULTI but in one round trip).
A commit that ran but whose answer was lost (redis-py resends it) finds its own dedupe
marker or a moved `rev`: it cannot count twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import redis
from redis.commands.core import Script

from bot.menu import Profile
from bot.store import codec, lua
from bot.store.codec import decoded, document, flat
from bot.store.content import ContentGeneration
from bot.store.keys import PARTS_SEPARATOR, Keys
from bot.store.log import LogEntry, log_args
from bot.store.replicated import Replicated


@dataclass(frozen=True)
class Loaded:
    state: dict | None  # the conversation state (JSON) under the state key
    profile: Profile
    duplicate: tuple[str, ...] | None  # the parts already sent, when this message was seen before
    extras: dict[str, dict | None] = field(default_factory=dict)  # other keys read alongside, as JSON
    stored: Mapping[str, str] = field(default_factory=dict)  # the profile's fields as read

    @property
    def rev(self) -> str:
        """The profile's revision as read: the commit writes only if it is still this."""
        return self.stored.get("rev", "0")


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
        object.__setattr__(self, "args", tuple(map(str, args)))


# KEYS: profile, dedupe, log, the person's log index, then one key per write
# ARGV: rev, has_dedupe, dedupe_value, dedupe_ttl, maxlen, minid, retention ms, n_profile_fields, fields...,
#       per write: command, n_args, args...; then per log entry: n_fields, fields...
_COMMIT = (
    lua.LOG
    + """
if ARGV[2] == '1' then
  local seen = redis.call('GET', KEYS[2])
  if seen then return {'duplicate', seen} end
end
local rev = redis.call('HGET', KEYS[1], 'rev') or '0'
if rev ~= ARGV[1] then return {'conflict', rev} end
-- unpack(ARGV, from, to) hands a run of arguments on without copying them one by one in Lua:
-- this script runs for every message, and Redis runs nothing else meanwhile.
local i = 8
local n = tonumber(ARGV[i])
redis.call('HSET', KEYS[1], 'rev', tostring(tonumber(rev) + 1), unpack(ARGV, i + 1, i + n))
i = i + n + 1
local allowed = {SET = true, DEL = true, SADD = true, SREM = true, ZADD = true, ZREM = true, HSET = true, HDEL = true}
for k = 5, #KEYS do
  local command, count = ARGV[i], tonumber(ARGV[i + 1])
  if not allowed[command] then return redis.error_reply('command not allowed in commit: ' .. command) end
  redis.call(command, KEYS[k], unpack(ARGV, i + 2, i + 1 + count))
  i = i + 2 + count
end
if ARGV[2] == '1' then redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4]) end
local entries, last = {}, #ARGV
while i <= last do
  n = tonumber(ARGV[i])
  entries[#entries + 1] = {unpack(ARGV, i + 1, i + n)}
  i = i + n + 1
end
if #entries > 0 then append_logs(KEYS[3], KEYS[4], ARGV[5], ARGV[6], ARGV[7], entries) end
return {'ok', ''}
"""
)


class Store:
    """One deployment's Redis: its client, key names and limits; and people's profiles and conversations.

    The other nouns (`MessageLog`, `Sends`, `Replies`, `Broadcasts`, `Subscriptions`...) are
    classes built on a Store, each in its own module.
    """

    def __init__(self, client: redis.Redis, config: Mapping):
        self.redis = client
        self.keys = Keys(config["REDIS_PREFIX"])
        self.session_ttl = int(config["SESSION_IDLE_SECONDS"])
        self.first_subscription_delay = int(config["DRIP_FIRST_DELAY_SECONDS"])
        self.dedupe_ttl = int(config["DEDUPE_SECONDS"])
        self.log_max = int(config["LOG_MAX_ENTRIES"])
        self.log_retention_ms = int(config["LOG_RETENTION_DAYS"]) * 86_400_000
        self._scripts: dict[str, Script] = {}
        self._commit = self.script(_COMMIT)
        # Acknowledged writes wait for replicas (REDIS_WAIT_REPLICAS), pipelined with the write itself.
        self.replicated = Replicated(self, int(config.get("REDIS_WAIT_REPLICAS") or 0),
                                     int(config.get("REDIS_WAIT_MS") or 500))  # fmt: skip

    def script(self, source: str) -> Script:
        """A Lua script registered once per store (its SHA is computed once, loaded once per server)."""
        if source not in self._scripts:
            self._scripts[source] = self.redis.register_script(source)
        return self._scripts[source]

    def ping(self) -> bool:
        return bool(self.redis.ping())

    def load(self, phone: str, state_key: str, dedupe_key: str = "", extra_keys: Sequence[str] = ()) -> Loaded:
        """One round trip: the dedupe marker, the state, the profile and any extra keys."""
        pipe = self.redis.pipeline(transaction=False)
        # One MGET for every string key: redis-py's cost is per command, and this runs on every message.
        pipe.mget([dedupe_key or state_key, state_key, *extra_keys])
        pipe.hgetall(self.keys.profile(phone))
        (seen, raw_state, *extras), raw_profile = pipe.execute()
        profile = decoded(raw_profile)
        return Loaded(
            state=document(raw_state),
            profile=profile_from(profile),
            duplicate=codec.parts(seen) if dedupe_key and seen is not None else None,
            extras={key: document(raw) for key, raw in zip(extra_keys, extras, strict=True)},
            stored=profile,
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
        marks: Mapping[str, str] | None = None,
    ) -> tuple[str, tuple[str, ...]]:
        """One round trip. Returns ("ok", parts), ("duplicate", parts sent before) or ("conflict", ()).

        `marks` are other profile fields the message sets (the channel it came by). Only fields
        that differ from what `load` read are written: the script's `rev` check guarantees the
        profile has not changed since, and most messages change nothing but `last_seen`.
        """
        now = time.time() if now is None else now
        wanted = {
            "lang": profile.lang,
            "country": profile.country,
            "opted_out": "1" if profile.opted_out else "0",
            "subs": ",".join(profile.subscriptions),
            "groups": ",".join(profile.groups),
            "invalid": "0",  # they just reached us from this number, whatever a gateway said before
            "delivery": profile.delivery,
            **(marks or {}),
        }
        stored = loaded.stored
        fields = {name: value for name, value in wanted.items() if stored.get(name) != value}
        fields["last_seen"] = f"{now:.3f}"
        if not stored.get("first_seen"):
            fields["first_seen"] = fields["last_seen"]
        ops = [w.op() if isinstance(w, Write) else w for w in writes]
        ops += self.membership_ops(phone, loaded.profile, profile, now)
        if profile.opted_out != loaded.profile.opted_out:
            fields["opted_out_at" if profile.opted_out else "opted_in_at"] = f"{now:.3f}"
        args: list[str] = [
            loaded.rev,
            "1" if dedupe_key else "0",
            PARTS_SEPARATOR.join(parts),
            str(self.dedupe_ttl),
            *log_args(self, now),
            str(len(fields) * 2),
            *flat(fields),
        ]
        for op in ops:
            args += [op.command, str(len(op.args)), *op.args]
        for entry in log:
            entry_fields = flat(entry.fields())
            args += [str(len(entry_fields)), *entry_fields]
        keys = [self.keys.profile(phone), dedupe_key or self.keys.profile(phone), self.keys.log(),
                self.keys.log_index(phone), *(op.key for op in ops)]  # fmt: skip
        status, value = self.replicated.run(self._commit, keys, args)
        status = status.decode()
        if status == "duplicate":
            return status, codec.parts(value)
        return status, parts if status == "ok" else ()

    def membership_ops(self, phone: str, before: Profile, after: Profile, now: float) -> list[Op]:
        """Keep the sets that audiences are built from in step with a person's profile."""
        unchanged = (after.opted_out == before.opted_out and after.groups == before.groups
                     and after.subscriptions == before.subscriptions)  # fmt: skip
        if unchanged:  # nearly every message
            return []
        k = self.keys
        ops = []
        if after.opted_out != before.opted_out:
            ops.append(Op("SADD" if after.opted_out else "SREM", k.optouts(), phone))
        for group in set(after.groups) - set(before.groups):
            ops.append(Op("SADD", k.group(group), phone))
        for group in set(before.groups) - set(after.groups):
            ops.append(Op("SREM", k.group(group), phone))
        for topic in set(after.subscriptions) - set(before.subscriptions):
            member = k.subscription_member(phone, topic)
            ops.append(Op("ZADD", k.subscriptions_due(), f"{now + self.first_subscription_delay:.0f}", member))
            ops.append(Op("HSET", k.subscription_positions(), member, "0"))
        for topic in set(before.subscriptions) - set(after.subscriptions):
            member = k.subscription_member(phone, topic)
            ops.append(Op("ZREM", k.subscriptions_due(), member))
            ops.append(Op("HDEL", k.subscription_positions(), member))
        return ops

    def profile_fields(self, phone: str) -> dict[str, str]:
        return decoded(self.redis.hgetall(self.keys.profile(phone)))

    # The content's published generation has its own module; these two keep the services' calls short.
    def content_generation(self) -> int:
        return ContentGeneration(self).current()

    def publish_content(self) -> int:
        return ContentGeneration(self).publish()


def profile_from(fields: Mapping[str, str]) -> Profile:
    return Profile(
        lang=fields.get("lang", ""),
        country=fields.get("country", ""),
        opted_out=fields.get("opted_out") == "1",
        subscriptions=tuple(filter(None, fields.get("subs", "").split(","))),
        groups=tuple(filter(None, fields.get("groups", "").split(","))),
        delivery=fields.get("delivery", ""),
    )
