"""The message log's filters and pages, as pure functions over log entries (no Redis here).

A page is collected from chunks of entries, newest first, until it is full or the scan
budget is spent: with a million entries a rare filter must not hold a request for seconds.
The caller then offers to continue from where the scan stopped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timezone

from bot import phones
from bot.menu import Event

Row = tuple[str, dict[str, str]]
DIRECTIONS = ("in", "out")
CHANNELS = ("sms", "ussd", "voice", "simulator", "chat")
STATUSES = ("sent", "failed", "invalid", "opted_out", "delivered", "undelivered")
EVENTS = (*(e.value for e in Event), "call_end")  # what a turn did ("urgent": a danger sign answered); a call's end


@dataclass(frozen=True)
class Filter:
    direction: str = ""
    channel: str = ""
    number: str = ""  # a full number (+country...) or its last digits
    topic: str = ""
    status: str = ""
    event: str = ""
    since: str = ""  # YYYY-MM-DD, UTC
    until: str = ""
    text: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filter:
        values = {f.name: (args.get(f.name) or "").strip()[:200] for f in fields(cls)}
        values["direction"] = values["direction"] if values["direction"] in DIRECTIONS else ""
        values["channel"] = values["channel"] if values["channel"] in CHANNELS else ""
        values["status"] = values["status"] if values["status"] in STATUSES else ""
        values["event"] = values["event"] if values["event"] in EVENTS else ""
        values["since"], values["until"] = _day(values["since"]), _day(values["until"])
        return cls(**values)

    def args(self) -> dict[str, str]:
        """The filter as query arguments (for links to the next page and the CSV export)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    @property
    def phone(self) -> str:
        """The full number asked for, when one was: then the person's own index is read, not the log."""
        if self.number.startswith("+"):
            return phones.normalise(self.number) or ""
        return ""

    @property
    def digits(self) -> str:
        return "".join(c for c in self.number if c.isdigit())

    @property
    def active(self) -> bool:
        return bool(self.args())

    def id_range(self) -> tuple[str, str]:
        """The stream ids a date range covers (newest, oldest): dates cost nothing to filter."""
        newest = str(_ms(self.until) + 86_400_000 - 1) if self.until else "+"
        oldest = str(_ms(self.since)) if self.since else "-"
        return newest, oldest

    def newer_than_range(self, entry_id: str) -> bool:
        newest, _ = self.id_range()
        return newest != "+" and id_key(entry_id)[0] > int(newest)

    def older_than_range(self, entry_id: str) -> bool:
        _, oldest = self.id_range()
        return oldest != "-" and id_key(entry_id)[0] < int(oldest)

    def matches(self, entry: Mapping[str, str]) -> bool:
        if self.direction and entry.get("direction") != self.direction:
            return False
        if self.channel and entry.get("channel") != self.channel:
            return False
        if self.topic and entry.get("topic") != self.topic:
            return False
        if self.status and entry.get("status") != self.status:
            return False
        if self.event and entry.get("event") != self.event:
            return False
        if self.number:
            phone = entry.get("phone", "")
            if self.phone and phone != self.phone:
                return False
            if not self.phone and not (self.digits and phone.endswith(self.digits)):
                return False
        if self.text and self.text.casefold() not in entry.get("text", "").casefold():
            return False
        return True


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    before: str  # continue from this id (exclusive); "" when nothing older is left
    scanned: int
    budget_spent: bool  # the scan stopped before the page was full


def collect(chunks: Iterable[list[Row]], keep: Filter, size: int, budget: int) -> Page:
    """Filter chunks of entries (newest first) into a page of `size` rows, reading at most `budget`."""
    rows: list[Row] = []
    scanned = 0
    last = ""
    for chunk in chunks:
        if not chunk:
            break
        for entry_id, entry in chunk:
            if keep.older_than_range(entry_id):
                return Page(rows, "", scanned, False)  # newest first: nothing older can match
            scanned += 1
            last = entry_id
            if not keep.newer_than_range(entry_id) and keep.matches(entry):
                rows.append((entry_id, entry))
                if len(rows) == size:
                    return Page(rows, entry_id, scanned, False)
            if scanned >= budget:
                return Page(rows, last, scanned, True)
    return Page(rows, "", scanned, False)


def id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def older_than(rows: list[Row], before: str) -> list[Row]:
    """Rows strictly older than stream id `before` (ids that share a millisecond are told apart)."""
    if not before:
        return rows
    limit = id_key(before)
    return [r for r in rows if id_key(r[0]) < limit]


def _day(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return ""


def _ms(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=timezone.utc).timestamp() * 1000)


def stream_id(value: str) -> str:
    """`value` if it is a stream id ("1700000000000-0"), else "": a page cursor from a URL."""
    ms, _, seq = value.partition("-")
    return value if ms.isdigit() and seq.isdigit() else ""
