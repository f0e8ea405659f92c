"""The timed-message schedule: which key message or reminder fits this week of a pregnancy or month of a child. Pure.

`messages/schedules.yaml` (or SCHEDULE_FILE) is data a health editor changes; this module reads it,
validates it against the content, reads what a family typed to register, and plans what one
person receives and on which day. Sending, quiet hours and storage belong to the shell.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from pathlib import Path

import yaml

# Weeks of pregnancy are counted from the last period, as clinics do: the due date is week 40.
DUE_WEEK = 40
MAX_PREGNANCY_WEEKS = 42
# A BABY registration is for children under 5: the schedule ends at the fifth birthday.
MAX_CHILD_YEARS = 5
# On registering, the latest message that fell due this many days before is still sent, so a
# family who registers on day 2 of week 6 gets the week-6 vaccine reminder; older ones are skipped.
CATCH_UP_DAYS = 7

_DATE_DMY = re.compile(r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})$")
_DATE_YMD = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_WEEKS = re.compile(r"^[0-9]{1,2}$")


class Series(str, Enum):
    PREGNANCY = "pregnancy"
    BABY = "baby"
    LOSS = "loss"


class Kind(str, Enum):
    TIP = "tip"  # a key message
    REMINDER = "reminder"  # a timed text such as a vaccine reminder
    SUPPORT = "support"  # the loss series


UNITS = {Series.PREGNANCY: ("week",), Series.BABY: ("day", "week", "month"), Series.LOSS: ("day",)}


class ScheduleError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Entry:
    series: Series
    unit: str  # "day", "week" or "month"
    n: int
    messages: tuple[str, ...] = ()
    reminder: str = ""
    chapters: tuple[int, ...] = ()

    def day(self, anchor: date) -> date:
        """The day this entry falls due; `anchor` is the due date, the birth date or the day of a loss."""
        if self.series is Series.PREGNANCY:
            return anchor - timedelta(weeks=DUE_WEEK - self.n)
        if self.unit == "month":
            return add_months(anchor, self.n)
        return anchor + (timedelta(weeks=self.n) if self.unit == "week" else timedelta(days=self.n))


@dataclass(frozen=True)
class Schedule:
    entries: Mapping[Series, tuple[Entry, ...]]
    max_per_week: int = 3

    def reminders(self) -> set[str]:
        return {e.reminder for es in self.entries.values() for e in es if e.reminder}

    def message_ids(self) -> set[str]:
        return {m for es in self.entries.values() for e in es for m in e.messages}


@dataclass(frozen=True, order=True)
class Planned:
    day: date
    kind: Kind
    id: str  # a key message id, or a reminder id


# -- reading the file ----------------------------------------------------------------------------


def load(path: str | Path) -> Schedule:
    """The schedule file, its shape checked (ids are checked against the content by `problems`)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ScheduleError([f"{path.name}: cannot be read: {e}"]) from None
    return parse(data, path.name)


def parse(data, name: str = "schedules.yaml") -> Schedule:
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ScheduleError([f"{name}: must be a mapping with pregnancy, baby and loss lists"])
    cap = data.get("max_per_week", 3)
    if not isinstance(cap, int) or isinstance(cap, bool) or not 1 <= cap <= 7:
        problems.append(f"{name}: max_per_week: must be a whole number from 1 to 7")
        cap = 3
    entries = {}
    for series in Series:
        rows = data.get(series.value, [])
        if not isinstance(rows, list):
            problems.append(f"{name}: {series.value}: must be a list")
            rows = []
        entries[series] = tuple(e for n, row in enumerate(rows, 1)
                                if (e := _entry(series, row, f"{name}: {series.value} #{n}", problems)))  # fmt: skip
    if problems:
        raise ScheduleError(problems)
    return Schedule(entries, cap)


def _entry(series: Series, row, place: str, problems: list[str]) -> Entry | None:
    if not isinstance(row, dict):
        problems.append(f"{place}: must be a mapping")
        return None
    units = [u for u in ("day", "week", "month") if u in row]
    if len(units) != 1 or units[0] not in UNITS[series]:
        problems.append(f"{place}: needs exactly one of {', '.join(UNITS[series])}")
        return None
    n = row[units[0]]
    top = MAX_PREGNANCY_WEEKS if series is Series.PREGNANCY else 12 * MAX_CHILD_YEARS * 31
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= top:
        problems.append(f"{place}: {units[0]} must be a whole number from 0 to {top}")
        return None
    messages, reminder = row.get("messages", []), row.get("reminder", "")
    if not isinstance(messages, list) or not all(isinstance(m, str) and m for m in messages):
        problems.append(f"{place}: messages must be a list of key message ids")
        return None
    if not isinstance(reminder, str) or not (messages or reminder):
        problems.append(f"{place}: needs messages or a reminder id")
        return None
    chapters = row.get("chapters", [])
    chapters = tuple(c for c in chapters if isinstance(c, int)) if isinstance(chapters, list) else ()
    return Entry(series, units[0], n, tuple(messages), reminder, chapters)


def problems(schedule: Schedule, message_ids: Iterable[str], same_as: Mapping[str, str],
             reminder_texts: Iterable[str]) -> list[str]:  # fmt: skip
    """What in a well-formed schedule does not fit the content: unknown ids, repeats, too many a week."""
    known, texts = set(message_ids), set(reminder_texts)
    found = []
    for series, entries in schedule.entries.items():
        seen: dict[str, str] = {}
        for e in entries:
            where = f"{series.value} {e.unit} {e.n}"
            for m in e.messages:
                if m not in known:
                    found.append(f"{where}: no key message {m!r}")
                fact = same_as.get(m, m)
                if fact in seen:
                    found.append(f"{where}: {m} repeats {seen[fact]} (the same fact is sent once)")
                seen.setdefault(fact, m)
            if e.reminder and e.reminder not in texts:
                found.append(f"{where}: reminder {e.reminder!r} has no text reminder_{e.reminder} in English")
        found.extend(_crowded(series, entries, schedule.max_per_week))
    return found


def _crowded(series: Series, entries: tuple[Entry, ...], cap: int) -> list[str]:
    """Weeks in which this series alone would send more than `cap` messages (births are day 0)."""
    anchor = date(2020, 1, 1)
    days = sorted(e.day(anchor) for e in entries for _ in range(len(e.messages) + bool(e.reminder)))
    return [f"{series.value}: more than {cap} messages in the week from {series.value} day {(d - days[0]).days}"
            for i, d in enumerate(days) if i + cap < len(days) and days[i + cap] - d < timedelta(days=7)]  # fmt: skip


# -- what a family types ---------------------------------------------------------------------------


class Refusal(str, Enum):
    BAD_DATE = "bad_date"  # not a date we can read, or no such day
    FUTURE_BIRTH = "future_birth"
    TOO_OLD = "too_old"  # a child 5 or older
    DUE_PASSED = "due_passed"  # a due date in the past: ask for BABY and the birth date
    DUE_TOO_FAR = "due_too_far"
    BAD_WEEKS = "bad_weeks"


@dataclass(frozen=True)
class Registration:
    series: Series
    anchor: date  # due date or birth date


def parse_date(text: str) -> date | None:
    """12-03-2026, 12/3/2026, 12.3.2026 (day first) or 2026-03-12; ASCII digits only."""
    text = text.strip()
    if m := _DATE_YMD.match(text):
        y, mo, d = (int(g) for g in m.groups())
    elif m := _DATE_DMY.match(text):
        d, mo, y = (int(g) for g in m.groups())
    else:
        return None
    try:
        return date(y, mo, d)
    except ValueError:
        return None


def register_baby(text: str, today: date) -> Registration | Refusal:
    born = parse_date(text)
    if born is None:
        return Refusal.BAD_DATE
    if born > today:
        return Refusal.FUTURE_BIRTH
    if add_months(born, 12 * MAX_CHILD_YEARS) <= today:
        return Refusal.TOO_OLD
    return Registration(Series.BABY, born)


def register_due(text: str, today: date) -> Registration | Refusal:
    due = parse_date(text)
    if due is None:
        return Refusal.BAD_DATE
    if due < today:
        return Refusal.DUE_PASSED
    if due > today + timedelta(weeks=DUE_WEEK):
        return Refusal.DUE_TOO_FAR
    return Registration(Series.PREGNANCY, due)


def register_weeks(text: str, today: date) -> Registration | Refusal:
    """PREGNANT 20: twenty weeks pregnant today."""
    text = text.strip()
    if not _WEEKS.match(text) or not 1 <= int(text) <= MAX_PREGNANCY_WEEKS:
        return Refusal.BAD_WEEKS
    return Registration(Series.PREGNANCY, today + timedelta(weeks=DUE_WEEK - int(text)))


# -- planning --------------------------------------------------------------------------------------


def plan(schedule: Schedule, series: Series, anchor: date, registered_on: date,
         canonical: Callable[[str], str] = lambda m: m) -> list[Planned]:  # fmt: skip
    """Everything one registration sends, on the day each falls due, before spreading and sent-filtering.

    Entries due before `registered_on` are skipped, except the latest one due within CATCH_UP_DAYS.
    A key message listed twice (directly or through same_as) is planned once, at its first place.
    """
    kind = Kind.SUPPORT if series is Series.LOSS else Kind.REMINDER
    items, facts = [], set()
    for e in schedule.entries.get(series, ()):
        for m in e.messages:
            if canonical(m) not in facts:
                facts.add(canonical(m))
                items.append(Planned(e.day(anchor), Kind.TIP, m))
        if e.reminder:
            items.append(Planned(e.day(anchor), kind, e.reminder))
    items.sort(key=lambda p: p.day)  # stable: the file's order breaks ties
    past = [p for p in items if p.day < registered_on]
    keep = [past[-1]] if past and registered_on - past[-1].day <= timedelta(days=CATCH_UP_DAYS) else []
    return keep + [p for p in items if p.day >= registered_on]


def spread(items: Iterable[Planned], sent: Iterable[str] = (), after: date | None = None,
           canonical: Callable[[str], str] = lambda m: m) -> list[Planned]:  # fmt: skip
    """At most one message a day: a message due on a taken day waits for the next free one.

    `items` may come from several registrations (two children); key messages already in `sent`
    (compared as facts, through same_as) are dropped, so a pregnancy's tips are not repeated for the baby.
    `after` is the day of the last timed message already sent.
    """
    done = {canonical(m) for m in sent}
    out: list[Planned] = []
    last = after
    for p in sorted(items, key=lambda p: p.day):
        if p.kind is Kind.TIP:
            if canonical(p.id) in done:
                continue
            done.add(canonical(p.id))
        day = p.day if last is None or p.day > last else last + timedelta(days=1)
        out.append(Planned(day, p.kind, p.id))
        last = day
    return out


def add_months(day: date, months: int) -> date:
    """The same day of the month, `months` later (the last day when that month is shorter)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
