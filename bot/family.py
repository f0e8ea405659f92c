"""A family's timed messages: its registrations, what it was sent, and what comes next. Pure.

A `Family` is everything the scheduler keeps about one phone: its registrations (a pregnancy,
one or more children, a loss), each with how far through its plan it has got; the key
messages already sent (as facts, through same_as, so no registration repeats another's); and
the day of the last timed message, so at most one goes out a day. `upcoming` merges the
registrations' plans (bot/schedule.plan) exactly as `schedule.spread` would, one item at a
time; `advance` records that item as handled. The shell (bot/timed.py) stores it compactly
(`encode`/`decode`) and turns days into times with quiet hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property, lru_cache

from bot.schedule import Kind, Planned, Registration, Schedule, Series, plan

# A family may register a pregnancy and several children; beyond this, the oldest child's series gives way.
MAX_ENROLMENTS = 6
_LETTER = {Series.PREGNANCY: "p", Series.BABY: "b", Series.LOSS: "l"}
_SERIES = {v: k for k, v in _LETTER.items()}


@dataclass(frozen=True)
class Enrolment:
    """One registration: a series from its anchor (due date, birth date or day of a loss)."""

    series: Series
    anchor: date
    registered_on: date  # the family's own day when it registered (catch-up counts from it)
    position: int = 0  # items of its plan already handled (sent, or skipped as already sent)


@dataclass(frozen=True)
class Family:
    enrolments: tuple[Enrolment, ...] = ()
    sent: frozenset[str] = frozenset()  # key messages sent, as canonical ids (see Planner.canonical)
    last: date | None = None  # the family's own day of the last timed message

    @property
    def empty(self) -> bool:
        return not self.enrolments


@dataclass(frozen=True)
class Next:
    """The next timed message: which registration, what, and the day it goes (one a day)."""

    enrolment: int  # index in Family.enrolments
    position: int  # the item's place in that registration's plan
    item: Planned  # as planned (its own day)
    day: date  # when it goes, after the one-a-day rule


class Planner:
    """A schedule with the content's same_as map: each registration's plan, computed once."""

    def __init__(self, schedule: Schedule, same_as: dict[str, str] | None = None):
        self.schedule = schedule
        self.same_as = dict(same_as or {})
        self._plan = lru_cache(maxsize=65_536)(self._compute)

    def canonical(self, message_id: str) -> str:
        return self.same_as.get(message_id, message_id)

    def plan(self, e: Enrolment) -> tuple[Planned, ...]:
        return self._plan(e.series, e.anchor, e.registered_on)

    def _compute(self, series: Series, anchor: date, registered_on: date) -> tuple[Planned, ...]:
        return tuple(plan(self.schedule, series, anchor, registered_on, self.canonical))


def upcoming(family: Family, planner: Planner) -> Next | None:
    """The next message the family gets: the earliest due among its registrations (ties: first registered)."""
    best: Next | None = None
    for i, e in enumerate(family.enrolments):
        items = planner.plan(e)
        for position in range(e.position, len(items)):
            item = items[position]
            if item.kind is Kind.TIP and planner.canonical(item.id) in family.sent:
                continue  # already sent by another registration: skipped, never repeated
            if best is None or item.day < best.item.day:
                best = Next(i, position, item, item.day)
            break
    if best is None:
        return None
    if family.last is not None and best.day <= family.last:
        best = replace(best, day=family.last + timedelta(days=1))
    return best


def advance(family: Family, nxt: Next, planner: Planner) -> Family:
    """`nxt` went out (or was given up): its registration moves on, and one that is finished ends."""
    sent = family.sent | {planner.canonical(nxt.item.id)} if nxt.item.kind is Kind.TIP else family.sent
    enrolments = list(family.enrolments)
    enrolments[nxt.enrolment] = replace(enrolments[nxt.enrolment], position=nxt.position + 1)
    done = [e for e in enrolments if e.position < len(planner.plan(e))]
    return Family(tuple(done), sent, nxt.day)


def register(family: Family, registration: Registration, today: date) -> Family:
    """Add a registration. A birth ends any pregnancy (the baby series takes over, sent facts shared);
    a new due date replaces the old one; the same child twice is one registration."""
    kept = []
    for e in family.enrolments:
        if e.series is registration.series and e.anchor == registration.anchor:
            return family  # registered already: nothing restarts
        if e.series is Series.PREGNANCY and registration.series in (Series.BABY, Series.PREGNANCY):
            continue
        kept.append(e)
    new = Enrolment(registration.series, registration.anchor, today)
    babies = [e for e in kept if e.series is Series.BABY]
    if len(kept) + 1 > MAX_ENROLMENTS and babies:
        kept.remove(min(babies, key=lambda e: e.anchor))
    return replace(family, enrolments=(*kept, new))


def lose(family: Family, today: date) -> Family:
    """A loss: every pregnancy and baby series stops now; the support series starts today."""
    support = Enrolment(Series.LOSS, today, today)
    return replace(family, enrolments=(support,))


def series_of(family: Family) -> set[Series]:
    return {e.series for e in family.enrolments}


# -- storage form --------------------------------------------------------------------------------------
# "p20270601-120.3,b20260312+2.0;20261205;4001a": registrations (series letter, anchor, registered_on
# as days from the anchor, position), the last day, and the sent facts as a hex bit set (bit
# (chapter-1)*16 + number-1 of each key message: stable while ids are) with any id beyond it after "~".
# About 40-90 characters for a family, so a million registrations stay small in Redis.


@dataclass(frozen=True)
class Codebook:
    """Key message ids <-> bit numbers, from the content's chapters and message numbers."""

    bits: dict[str, int]

    @classmethod
    def of(cls, messages: Iterable[tuple[int, int, str]]) -> Codebook:
        """From (chapter, number, id) of every key message."""
        return cls({mid: (ch - 1) * 16 + n - 1 for ch, n, mid in messages if 1 <= ch <= 16 and 1 <= n <= 16})

    @cached_property
    def ids(self) -> dict[int, str]:
        """Bit number -> key message id (computed once: every decode reads it)."""
        return {b: m for m, b in self.bits.items()}


def encode(family: Family, book: Codebook) -> str:
    if family.empty:
        return ""
    regs = ",".join(f"{_LETTER[e.series]}{_ymd(e.anchor)}{(e.registered_on - e.anchor).days:+d}.{e.position}"
                    for e in family.enrolments)  # fmt: skip
    mask, extra, bits = 0, [], book.bits
    for m in family.sent:
        if (b := bits.get(m)) is not None:
            mask |= 1 << b
        else:
            extra.append(m)
    sent = f"{mask:x}" if mask else ""
    if extra:
        sent += "~" + "~".join(sorted(extra))
    return f"{regs};{_ymd(family.last)};{sent}" if family.last else f"{regs};;{sent}"


def decode(value: str, book: Codebook) -> Family:
    """A stored family; an unreadable value is an empty family rather than an error."""
    if not value:
        return Family()
    try:
        regs, last, sent = value.split(";")
        enrolments = tuple(_enrolment(r) for r in regs.split(",") if r)
        mask, *extra = sent.split("~")
        bits = int(mask, 16) if mask else 0
        ids, facts = book.ids, set(extra)
        while bits:  # only the bits that are set: a family has been sent a few dozen of ~200
            low = bits & -bits
            if (b := low.bit_length() - 1) in ids:
                facts.add(ids[b])
            bits ^= low
        return Family(enrolments, frozenset(facts), _day(last) if last else None)
    except (ValueError, KeyError):
        return Family()


def _enrolment(text: str) -> Enrolment:
    series, anchor = _SERIES[text[0]], _day(text[1:9])
    offset, _, position = text[9:].partition(".")
    return Enrolment(series, anchor, anchor + timedelta(days=int(offset)), int(position))


# Days and their stored form are cached: a million families hold a few thousand distinct days (the
# anchors and registrations of the last five years), and parsing or formatting was much of a send's time.
@lru_cache(maxsize=8192)
def _day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


@lru_cache(maxsize=8192)
def _ymd(day: date) -> str:
    return f"{day:%Y%m%d}"
