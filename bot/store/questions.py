"""Families' questions and the operators' answers: the dashboard's inbox, and canned answers.

A question is written in the same commit as the conversation turn that asked it (`writes`),
so it exists exactly when its reply was sent. Each is a JSON document that expires after
the retention; the two indexes (open by priority, all by time) are trimmed as they are read.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.store.codec import decoded, document
from bot.store.log import LogQuery
from bot.store.people import Op, Store, Write

# Urgent questions sort before every other open one: their priority is their time minus this.
URGENT_FIRST = 10**10
FIGURE_SAMPLE = 5000  # questions read at most for the figures (the newest)


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def priority(asked_at: float, urgent: bool) -> float:
    return asked_at - URGENT_FIRST if urgent else asked_at


@dataclass(frozen=True)
class Figures:
    per_day: list[tuple[str, int]]  # (UTC day, questions asked), oldest first
    median_first_answer: float | None  # seconds from asking to the answer, over the answered ones
    open_now: int
    urgent_open: int


@dataclass(frozen=True)
class Asker:
    """Who asked, as the inbox shows them: their profile and their recent conversation."""

    profile: dict[str, str]
    history: list[tuple[str, dict[str, str]]]  # log entries, newest first (as LogQuery.person gives them)


class Questions:
    def __init__(self, store: Store, retention_days: int):
        self.store, self.redis, self.keys = store, store.redis, store.keys
        self.ttl = int(retention_days) * 86_400

    def writes(self, question: Mapping) -> list[Write | Op]:
        """A new question, written by the commit of the turn that asked it (`question` from `document`)."""
        k, qid = self.keys, question["id"]
        return [
            Write(k.question(qid), dict(question), self.ttl),
            Op("ZADD", k.questions_open(), f"{priority(question['asked_at'], question['urgent']):.3f}", qid),
            Op("ZADD", k.questions_asked(), f"{question['asked_at']:.3f}", qid),
        ]

    @staticmethod
    def document(phone: str, text: str, lang: str, channel: str, urgent: bool, now: float) -> dict:
        return {"id": new_id(), "phone": phone, "text": text, "lang": lang, "channel": channel, "urgent": urgent,
                "asked_at": now, "status": "open"}  # fmt: skip

    def get(self, question_id: str) -> dict | None:
        return document(self.redis.get(self.keys.question(question_id)))

    def open(self, limit: int = 50) -> list[dict]:
        """Open questions, urgent first, then oldest first; ones past retention are dropped from the index."""
        ids = [i.decode() for i in self.redis.zrange(self.keys.questions_open(), 0, limit - 1)]
        docs = self._documents(ids)
        gone = [i for i, d in zip(ids, docs, strict=True) if d is None]
        if gone:
            self.redis.zrem(self.keys.questions_open(), *gone)
        return [d for d in docs if d is not None]

    def askers(self, phones: Iterable[str], history: int) -> dict[str, Asker]:
        """Each phone's profile and last `history` log entries, in two round trips however many phones:
        the profiles and the log indexes together, then every indexed entry."""
        phones = list(dict.fromkeys(phones))
        if not phones:
            return {}
        log, pipe = LogQuery(self.store), self.redis.pipeline(transaction=False)
        for phone in phones:
            pipe.hgetall(self.keys.profile(phone))
            log.person_ids(phone, history, pipe=pipe)
        found = pipe.execute()
        histories = log.entries(found[1::2])
        return {phone: Asker(decoded(profile), entries)
                for phone, profile, entries in zip(phones, found[0::2], histories, strict=True)}  # fmt: skip

    def counts(self) -> tuple[int, int]:
        """(open questions, urgent ones among them): what a viewer may see."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcard(self.keys.questions_open())
        pipe.zcount(self.keys.questions_open(), "-inf", "(0")  # urgent priorities are negative
        total, urgent = pipe.execute()
        return int(total), int(urgent)

    def close(self, question_id: str, *, answer: str, by: str, channel: str, now: float | None = None) -> dict | None:
        """Mark a question answered; None when it is gone or another operator answered it first."""
        if not self.redis.zrem(self.keys.questions_open(), question_id):
            return None  # ZREM is atomic: of two operators answering at once, one wins here
        doc = self.get(question_id)
        if doc is None:
            return None
        doc.update(status="answered", answer=answer, answered_by=by, answer_channel=channel,
                   answered_at=time.time() if now is None else now)  # fmt: skip
        self.redis.set(self.keys.question(question_id), json.dumps(doc, separators=(",", ":")), keepttl=True)
        return doc

    def figures(self, days: int = 14, now: float | None = None) -> Figures:
        """Questions per day, the median time to the first answer, and how many are open."""
        now = time.time() if now is None else now
        asked = self.keys.questions_asked()
        self.redis.zremrangebyscore(asked, "-inf", f"({now - self.ttl}")
        start = (int(now) // 86_400 - days + 1) * 86_400
        ids = [i.decode() for i in self.redis.zrevrangebyscore(asked, "+inf", start, start=0, num=FIGURE_SAMPLE)]
        docs = [d for d in self._documents(ids) if d is not None]
        per_day = {time.strftime("%Y-%m-%d", time.gmtime(start + n * 86_400)): 0 for n in range(days)}
        waits = []
        for d in docs:
            day = time.strftime("%Y-%m-%d", time.gmtime(float(d["asked_at"])))
            if day in per_day:
                per_day[day] += 1
            if d.get("answered_at"):
                waits.append(float(d["answered_at"]) - float(d["asked_at"]))
        total, urgent = self.counts()
        return Figures(list(per_day.items()), statistics.median(waits) if waits else None, total, urgent)

    def erase_person(self, phone: str, chunk: int = 1000) -> int:
        """Delete every kept question `phone` asked (FORGET); how many. Reads the kept questions a chunk
        at a time (there is no index by person: this is rare, and bounded by the retention)."""
        asked, erased, start = self.keys.questions_asked(), 0, 0
        while ids := [i.decode() for i in self.redis.zrange(asked, start, start + chunk - 1)]:
            theirs = [i for i, d in zip(ids, self._documents(ids), strict=True) if d and d.get("phone") == phone]
            if theirs:
                pipe = self.redis.pipeline(transaction=True)
                pipe.delete(*[self.keys.question(i) for i in theirs])
                pipe.zrem(self.keys.questions_open(), *theirs)
                pipe.zrem(asked, *theirs)
                pipe.execute()
                erased += len(theirs)
            start += chunk - len(theirs)
        return erased

    def _documents(self, ids: list[str]) -> list[dict | None]:
        if not ids:
            return []
        return [document(raw) for raw in self.redis.mget([self.keys.question(i) for i in ids])]

    # -- canned answers -------------------------------------------------------------------

    def canned(self) -> dict[str, str]:
        return dict(sorted(decoded(self.redis.hgetall(self.keys.canned_answers())).items()))

    def save_canned(self, name: str, text: str) -> None:
        self.redis.hset(self.keys.canned_answers(), name, text)

    def delete_canned(self, name: str) -> bool:
        return bool(self.redis.hdel(self.keys.canned_answers(), name))
