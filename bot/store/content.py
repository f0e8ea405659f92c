"""The published content's generation: bumped when an admin publishes, watched by every process."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.store.people import Store


class ContentGeneration:
    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, store.keys

    def current(self) -> int:
        return int(self.redis.get(self.keys.content_generation()) or 0)

    def publish(self) -> int:
        """Tell every process to read the content again; returns the new generation."""
        return int(self.redis.incr(self.keys.content_generation()))
