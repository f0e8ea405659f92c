"""Whether the Redis server keeps what we write on disk, checked when a production process starts.

Opt-outs, registrations and field workers live only in Redis: a server that keeps nothing on
disk forgets them all when it restarts. `assess` decides from the server's own settings (no
I/O); `check` reads them (`CONFIG GET`) and refuses to start on a server with neither an
append-only file nor snapshots, unless ALLOW_VOLATILE_REDIS says this is a demo.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

import redis

log = logging.getLogger(__name__)

FIX = ("turn on the append-only file (CONFIG SET appendonly yes, and appendonly yes in redis.conf or valkey.conf; "
       "a managed service: enable AOF or snapshots), or set ALLOW_VOLATILE_REDIS=true for a demo whose data "
       "may be lost")  # fmt: skip


class Kind(str, Enum):
    AOF = "aof"  # every write is in the append-only file: at most a second lost on a crash
    SNAPSHOTS = "snapshots"  # RDB only: what was written since the last snapshot is lost on a crash
    VOLATILE = "volatile"  # nothing on disk
    UNKNOWN = "unknown"  # the server would not say (a managed service that forbids CONFIG)


@dataclass(frozen=True)
class Persistence:
    kind: Kind
    snapshot_seconds: int = 0  # the longest a write can wait for a snapshot (RDB only)

    @property
    def minutes_at_risk(self) -> int:
        return max(1, -(-self.snapshot_seconds // 60))

    def warning(self) -> str:
        """What an operator should know, or "" when writes are safe on disk."""
        if self.kind is Kind.SNAPSHOTS:
            return (f"Redis keeps snapshots only: up to {self.minutes_at_risk} minutes of opt-outs can be lost on a "
                    "crash. Turn on the append-only file (appendonly yes).")  # fmt: skip
        if self.kind is Kind.VOLATILE:
            return "Redis keeps nothing on disk: every opt-out and registration is lost when it restarts."
        return ""


class VolatileRedis(RuntimeError):
    """A production process refused a server that keeps nothing on disk."""


def assess(appendonly: str, save: str) -> Persistence:
    """The server's persistence from `CONFIG GET appendonly` and `CONFIG GET save` ("3600 1 300 100")."""
    if appendonly.strip().lower() == "yes":
        return Persistence(Kind.AOF)
    numbers = [int(n) for n in save.split() if n.isascii() and n.isdigit()]
    seconds = numbers[0::2]
    if not seconds:
        return Persistence(Kind.VOLATILE)
    # A rule "S C" saves S seconds after a change once C changes have been made; a quiet
    # deployment meets only the rule with the fewest changes, so its S is how long a lone opt-out waits.
    rules = sorted(zip(numbers[1::2], seconds, strict=False))
    return Persistence(Kind.SNAPSHOTS, snapshot_seconds=rules[0][1])


def read(client: redis.Redis) -> Persistence:
    """Ask the server (raises RedisError when it cannot be reached)."""
    try:
        appendonly = _config(client, "appendonly")
        save = _config(client, "save")
    except redis.ResponseError as e:
        # Managed services (ElastiCache, Memorystore, Azure...) refuse CONFIG and persist as configured there.
        log.info("Redis refused CONFIG GET (%s): a managed service? Check its persistence in its console.", e)
        return Persistence(Kind.UNKNOWN)
    return assess(appendonly, save)


def _config(client: redis.Redis, name: str) -> str:
    value = client.config_get(name).get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


def check(client: redis.Redis, config: Mapping) -> Persistence:
    """At a production process's start: refuse a volatile server (VolatileRedis), warn about snapshots only."""
    try:
        found = read(client)
    except redis.RedisError as e:
        # Refusing here would turn a short Redis outage into a crash loop; /healthz says Redis is down.
        log.warning("could not check Redis persistence at start-up (%s): Redis unreachable", type(e).__name__)
        return Persistence(Kind.UNKNOWN)
    if found.kind is Kind.VOLATILE:
        if not config.get("ALLOW_VOLATILE_REDIS"):
            raise VolatileRedis("factsbot cannot start: Redis keeps nothing on disk, so every opt-out and "
                                f"registration would be lost when it restarts. To fix it, {FIX}.")  # fmt: skip
        log.warning("ALLOW_VOLATILE_REDIS: running on a Redis that keeps nothing on disk (a demo, never real families)")
    elif found.kind is Kind.SNAPSHOTS:
        log.warning(found.warning())
    return found
