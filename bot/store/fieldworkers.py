"""Field workers (community health workers): who they are, which groups they reach, what they sent today."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from bot.store.codec import document

if TYPE_CHECKING:
    from bot.store.people import Store


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
        return document(self.redis.get(self.keys.fieldworker(phone)))

    def all(self) -> list[dict]:
        phones = sorted(p.decode() for p in self.redis.smembers(self.keys.fieldworkers()))
        found = self.redis.mget([self.keys.fieldworker(p) for p in phones]) if phones else []
        return [r for r in map(document, found) if r]

    def broadcasts_on(self, phone: str, day: str) -> int:
        """Broadcasts this field worker sent on `day` (UTC)."""
        return int(self.redis.get(self.keys.daily_count(phone, day)) or 0)

    def count_broadcast(self, phone: str, day: str) -> None:
        key = self.keys.daily_count(phone, day)
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, 2 * 86_400)
        pipe.execute()

    def invite(self, family: str, group: str, by: str, ttl: int, **more: str) -> None:
        """Invite a family into a group (`more`: e.g. a registration for timed messages, kept until YES)."""
        self.redis.set(self.keys.invite(family), json.dumps({"group": group, "by": by, **more}), ex=ttl)

    def groups(self) -> list[str]:
        """Every group a field worker was ever given, sorted."""
        return sorted(g.decode() for g in self.redis.smembers(self.keys.groups()))

    def group_size(self, group: str) -> int:
        return int(self.redis.scard(self.keys.group(group)))
