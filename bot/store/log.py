"""The message log: one Redis stream of every message in and out, with a per-person index."""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING

from bot.store.codec import decoded, rows

if TYPE_CHECKING:
    from bot.store.people import Store


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
    seconds: str = ""  # a call that ended: how long it lasted

    def fields(self) -> dict[str, str]:
        """The fields that are set (every message logs two entries: the filter runs in C)."""
        return dict(filter(itemgetter(1), self.__dict__.items()))


def log_args(store: Store, now: float) -> list[str]:
    """What the scripts' `append_log` needs: the log's length cap, the oldest id kept, the index's expiry."""
    retention_ms = store.log_retention_ms
    return [str(store.log_max), str(int(now * 1000) - retention_ms), str(retention_ms)]


class LogQuery:
    """Reads of the message log for operators: pages newest first, one entry, one person's thread."""

    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, store.keys

    def length(self) -> int:
        return int(self.redis.xlen(self.keys.log()))

    def person_length(self, phone: str) -> int:
        return int(self.redis.zcard(self.keys.log_index(phone)))

    def newest(self, count: int, newest: str = "+", oldest: str = "-") -> list[tuple[str, dict[str, str]]]:
        """Up to `count` entries from `newest` back to `oldest` (stream ids; "(" makes a bound exclusive)."""
        return rows(self.redis.xrevrange(self.keys.log(), newest, oldest, count=count))

    def oldest_first(self, count: int, after: str) -> list[tuple[str, dict[str, str]]]:
        """Up to `count` entries after stream id `after` (exclusive), oldest first."""
        return rows(self.redis.xrange(self.keys.log(), f"({after}" if after != "-" else "-", "+", count=count))

    def entry(self, entry_id: str) -> dict[str, str] | None:
        found = self.redis.xrange(self.keys.log(), entry_id, entry_id)
        return decoded(found[0][1]) if found else None

    def person(self, phone: str, count: int = 50, before_ms: str = "+inf") -> list[tuple[str, dict[str, str]]]:
        """One person's log entries, newest first, from their index (no scan of the whole log)."""
        (found,) = self.entries([self.person_ids(phone, count, before_ms)])
        return found

    def person_ids(self, phone: str, count: int, before_ms: str = "+inf", pipe=None):
        """The ids of one person's newest `count` entries; queued on `pipe` when given (its reply is the ids)."""
        return (pipe or self.redis).zrevrangebyscore(self.keys.log_index(phone), before_ms, "-inf", start=0, num=count)

    def entries(self, groups: list[list]) -> list[list[tuple[str, dict[str, str]]]]:
        """The entries with each group's ids, group by group, in one round trip however many groups
        (none when there is no id: a pipeline without commands sends nothing)."""
        pipe = self.redis.pipeline(transaction=False)
        for ids in groups:
            for entry_id in ids:
                pipe.xrange(self.keys.log(), entry_id, entry_id)
        found = iter(pipe.execute())
        # An id trimmed from the log by retention finds no entry, and drops out here.
        return [[row for _ in ids for row in rows(next(found))] for ids in groups]


def redact(store: Store, phone: str, alias: str, chunk: int = 500) -> int:
    """Replace `phone` with `alias` in that person's log entries (FORGET); returns how many.

    A stream entry cannot be edited: each is copied with the alias in place of the number and its
    original id in `was`, then deleted, and the person's index goes. A copy of an entry the
    dashboard's roll-up has already counted says `counted` so it is not counted twice.
    """
    k, query = store.keys, LogQuery(store)
    cursor = (store.redis.get(k.rollup_cursor()) or b"0-0").decode()
    ids = [i.decode() for i in store.redis.zrange(k.log_index(phone), 0, -1)]
    for start in range(0, len(ids), chunk):
        (found,) = query.entries([ids[start : start + chunk]])
        pipe = store.redis.pipeline(transaction=True)
        for entry_id, fields in found:
            copy = {**fields, "phone": alias, "was": entry_id}
            if _id_key(entry_id) <= _id_key(cursor):
                copy["counted"] = "1"
            pipe.xadd(k.log(), copy)
            pipe.xdel(k.log(), entry_id)
        pipe.execute()
    store.redis.delete(k.log_index(phone))
    return len(ids)


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms or 0), int(seq or 0)
