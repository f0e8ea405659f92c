"""The overview's figures, counted from log entries: pure functions (the roll-up writes them per day)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone

TEST_CHANNELS = frozenset({"simulator", "chat"})  # trainers and developers, not families
SUBSCRIBED = frozenset({"joined", "invite_accepted"})
ACCEPTED = frozenset({"sent", "delivered"})
REJECTED = frozenset({"failed", "invalid", "undelivered"})
ANSWERED_CALLS = frozenset({"completed", "heard"})  # a call's outcomes in which someone picked up


def day_of(entry_id: str) -> str:
    """The UTC day of a stream id."""
    ms = int(entry_id.partition("-")[0])
    return datetime.fromtimestamp(ms / 1000, timezone.utc).date().isoformat()


def tally(rows: Iterable[tuple[str, dict[str, str]]]) -> tuple[dict[str, Counter], dict[str, set[str]]]:
    """Counters per UTC day, and the numbers that wrote in each day."""
    counts: dict[str, Counter] = {}
    people: dict[str, set[str]] = {}
    for entry_id, e in rows:
        if e.get("channel") in TEST_CHANNELS or e.get("counted"):
            continue  # a copy made by FORGET (bot/store/log.redact) of an entry counted already
        day = day_of(e.get("was") or entry_id)
        c = counts.setdefault(day, Counter())
        if e.get("event") == "call_end":  # a call ended (ours or the line's): a call and its minutes, not a message
            c["calls"] += 1
            c["call_seconds"] += int(e.get("seconds") or 0) if (e.get("seconds") or "").isdigit() else 0
            c["calls_answered"] += e.get("status") in ANSWERED_CALLS
            continue
        if e.get("direction") == "in":
            c["in"] += 1
            people.setdefault(day, set()).add(e.get("phone", ""))
            event = e.get("event", "")
            if event == "urgent":
                c["urgent"] += 1  # a danger sign: counted apart, and shown first
            elif event == "opt_out":
                c["opt_out"] += 1
            elif event in SUBSCRIBED:
                c["subscribed"] += 1
            elif event == "message" and e.get("topic"):
                c[f"read:{e['topic']}"] += 1
        else:
            c["out"] += 1
            status = e.get("status", "")
            if status in ACCEPTED:
                c["accepted"] += 1
            elif status in REJECTED:
                c["rejected"] += 1
    return counts, people


def days_ending(today: date, n: int) -> list[str]:
    """The last `n` UTC days, oldest first, today included."""
    return [(today - timedelta(days=i)).isoformat() for i in range(n - 1, -1, -1)]


def summary(per_day: Sequence[dict[str, int]], people: int) -> dict:
    """One window's headline figures."""
    total: Counter = Counter()
    for day in per_day:
        total.update(day)
    tried = total["accepted"] + total["rejected"]
    return {"inbound": total["in"], "outbound": total["out"], "people": people, "subscribed": total["subscribed"],
            "opted_out": total["opt_out"], "urgent": total["urgent"], "accepted": total["accepted"],
            "rejected": total["rejected"], "calls": total["calls"], "calls_answered": total["calls_answered"],
            "call_minutes": round(total["call_seconds"] / 60),
            "delivery_rate": round(100 * total["accepted"] / tried, 1) if tried else None}  # fmt: skip


def top_topics(per_day: Sequence[dict[str, int]], n: int = 8) -> list[tuple[str, int]]:
    """The most-read topics (key messages opened) over these days."""
    reads: Counter = Counter()
    for day in per_day:
        reads.update({k[5:]: v for k, v in day.items() if k.startswith("read:")})
    return reads.most_common(n)
