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
