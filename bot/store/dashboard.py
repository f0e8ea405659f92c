"""What the operator dashboard keeps: users, login failures, audit, daily figures, person links, audiences."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from bot.store.codec import decoded, document, rows

if TYPE_CHECKING:
    from bot.store.people import Store

AUDIT_MAX = 100_000  # the audit stream keeps about this many entries, bounded like the message log
DAY_TTL = 40 * 86_400  # per-day figures outlive the longest window the overview shows (30 days)
REFS_TTL = 30 * 86_400  # a link to a person keeps working this long after it was last shown


class Users:
    """Dashboard accounts: one hash per email (role, password hash, session token)."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, store.keys

    def get(self, email: str) -> dict[str, str] | None:
        return decoded(self.redis.hgetall(self.keys.user(email))) or None

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
        return [decoded(r) for r in pipe.execute() if r]


class LoginFailures:
    """Failed logins counted in fixed windows, per email and per client address."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, store.keys

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
        self.redis, self.keys = store.redis, store.keys

    def add(self, actor: str, action: str, **details: str) -> str:
        fields = {"actor": actor, "action": action, **{k: str(v) for k, v in details.items() if v != ""}}
        return self.redis.xadd(self.keys.audit(), fields, maxlen=AUDIT_MAX, approximate=True).decode()

    def recent(self, count: int = 100, before: str = "") -> list[tuple[str, dict[str, str]]]:
        return rows(self.redis.xrevrange(self.keys.audit(), f"({before}" if before else "+", "-", count=count))


class DailyFigures:
    """Per-day counters rolled up from the log (so the overview never rereads a month of messages)."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, store.keys

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
        self.redis, self.keys = store.redis, store.keys

    def remember(self, refs: Mapping[str, str]) -> None:
        # One key each, so every reference expires on its own REFS_TTL after it was last shown.
        if refs:
            pipe = self.redis.pipeline(transaction=False)
            for ref, phone in refs.items():
                pipe.set(self.keys.person_ref(ref), phone, ex=REFS_TTL)
            pipe.execute()

    def phone(self, ref: str) -> str | None:
        found = self.redis.get(self.keys.person_ref(ref))
        return found.decode() if found else None


class Audiences:
    """Who can be reached: subscriptions per topic, members per group, people per language."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, store.keys

    def subscriptions(self, budget: int) -> tuple[list[tuple[str, str]], bool]:
        """(phone, topic) of subscriptions, up to `budget`; and whether that was all of them."""
        found: list[tuple[str, str]] = []
        for member, _ in self.redis.zscan_iter(self.keys.subscriptions_due(), count=5000):
            found.append(self.keys.subscription_of(member.decode()))
            if len(found) >= budget:
                return found, False
        return found, True

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
        return document(self.redis.get(self.keys.cache(name)))

    def cache(self, name: str, value: dict, ttl: int) -> None:
        self.redis.set(self.keys.cache(name), json.dumps(value), ex=ttl)
