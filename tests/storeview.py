"""Reads of the store that only tests make: what a test checks after the code under test wrote it."""

from __future__ import annotations

from bot.store import LogQuery, Store
from bot.store.codec import decoded


def stored_keys(store: Store) -> list[bytes]:
    """Every key under the store's prefix (a refused request must leave none)."""
    return list(store.redis.scan_iter(match=f"{store.keys.prefix}*", count=1000))


def log_entries(store: Store, count: int = 100) -> list[tuple[str, dict[str, str]]]:
    """The whole message log, newest first."""
    return LogQuery(store).newest(count)


def person_log(store: Store, phone: str, count: int = 50) -> list[tuple[str, dict[str, str]]]:
    """One person's log entries, newest first."""
    return LogQuery(store).person(phone, count)


def sent_fields(store: Store, provider_id: str) -> dict[str, str]:
    """The delivery record of one outbound message."""
    return decoded(store.redis.hgetall(store.keys.sent(provider_id)))


def recipient_states(store: Store, broadcast_id: str) -> dict[str, str]:
    """Each recipient's `RecipientState` value in a broadcast."""
    return decoded(store.redis.hgetall(store.keys.recipients(broadcast_id)))


def next_due(store: Store, phone: str, topic_id: str) -> float | None:
    """When a subscription's next tip is due, or None when it has ended."""
    return store.redis.zscore(store.keys.subscriptions_due(), store.keys.subscription_member(phone, topic_id))


def keys_holding(store: Store, text: str) -> list[bytes]:
    """Every key under the prefix whose name or any value (of any type) contains `text`."""
    needle, r, found = text.encode(), store.redis, []
    for key in r.scan_iter(match=f"{store.keys.prefix}*"):
        kind = r.type(key)
        if kind == b"string":
            values = [r.get(key) or b""]
        elif kind == b"hash":
            values = [v for kv in r.hgetall(key).items() for v in kv]
        elif kind == b"set":
            values = list(r.smembers(key))
        elif kind == b"zset":
            values = r.zrange(key, 0, -1)
        elif kind == b"list":
            values = r.lrange(key, 0, -1)
        elif kind == b"stream":
            values = [v for _, fields in r.xrange(key) for kv in fields.items() for v in kv]
        else:
            values = []
        if needle in key or any(needle in v for v in values):
            found.append(key)
    return found
