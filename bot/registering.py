"""What a family types to register for timed messages, and what we answer. Pure.

    BABY 12-03-2026      a child born that day (also 12/3/2026, 2026-03-12)
    PREGNANT 20          twenty weeks pregnant today
    DUE 01-06-2027       the due date
    LOSS                 (the whole text) stop every pregnancy and baby message, start the support series
    FORGET               asks for YES, then erases everything kept about the person

Each language has its own words (words.yaml: baby, pregnant, due, loss, forget); English's work
everywhere. BABY, PREGNANT and DUE are commands only with a date or number after them ("PREGNANT"
alone is a topic, "MTOTO ANA HOMA" a question), so nothing a mother writes about her child is
mistaken for a registration.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum

from bot import family, schedule
from bot.content import Language, normalise_keyword
from bot.family import Family
from bot.schedule import Refusal, Registration, Series

READ_CHARS = 160
# Digits (any script: Devanagari digits are read, then refused as no date) in groups separated by - / . or spaces.
_DATE_LIKE = re.compile(r"^\d{1,4}([\s./-]+\d{1,4}){0,2}$")
_WEEKS_AND_WORD = re.compile(r"^(\d{1,2})\s*[^\d\s]*$")  # PREGNANT 20 WEEKS, PREGNANT 20wk


class Ask(str, Enum):
    BABY = "baby"
    PREGNANT = "pregnant"
    DUE = "due"
    LOSS = "loss"
    FORGET = "forget"
    USAGE = "usage"  # BABY alone: how to register


@dataclass(frozen=True)
class Request:
    ask: Ask
    value: str = ""  # the date or the weeks, as typed


@dataclass(frozen=True)
class Decided:
    """The reply (a system text by key, with its fields) and how the family changes, if it does."""

    key: str
    fields: tuple[tuple[str, object], ...] = ()
    change: Callable[[Family], Family] | None = None
    registration: Registration | None = None
    ask_forget: bool = False

    def text(self, lang: Language) -> str:
        return lang.texts[self.key].format(**dict(self.fields))


REFUSALS = {
    Refusal.BAD_DATE: "timed_bad_date",
    Refusal.FUTURE_BIRTH: "timed_future_birth",
    Refusal.TOO_OLD: "timed_too_old",
    Refusal.DUE_PASSED: "timed_due_passed",
    Refusal.DUE_TOO_FAR: "timed_due_too_far",
    Refusal.BAD_WEEKS: "timed_bad_weeks",
}
_REGISTER = {Ask.BABY: schedule.register_baby, Ask.PREGNANT: schedule.register_weeks, Ask.DUE: schedule.register_due}


def read(text: str, lang: Language) -> Request | None:
    """A registration command, or None for anything else (which goes to the menu)."""
    text = text[:READ_CHARS].strip()
    whole = normalise_keyword(text)
    if lang.is_command(whole, "loss"):
        return Request(Ask.LOSS)
    if lang.is_command(whole, "forget"):
        return Request(Ask.FORGET)
    head, _, rest = text.partition(" ")
    head, rest = normalise_keyword(head), rest.strip()
    for ask in (Ask.BABY, Ask.PREGNANT, Ask.DUE):
        if not lang.is_command(head, ask.value):
            continue
        if not rest:
            return None if whole in lang.keywords else Request(Ask.USAGE)
        if ask is Ask.PREGNANT and (m := _WEEKS_AND_WORD.match(rest)):
            return Request(ask, m.group(1))
        if _DATE_LIKE.match(rest):
            return Request(ask, re.sub(r"\s+", "-", rest))
        return None
    return None


def read_words(words: list[str], lang: Language) -> Request | None:
    """A field worker's `BABY 12-03-2026` / `DUE 01-06-2027` / `PREGNANT 20` after the number and group."""
    if len(words) != 2:
        return None
    found = read(" ".join(words), lang)
    return found if found and found.ask in (Ask.BABY, Ask.PREGNANT, Ask.DUE) else None


def shown(day: date) -> str:
    """A date as families write it: day-month-year."""
    return f"{day.day:02d}-{day.month:02d}-{day.year}"


def registration(request: Request, today: date) -> Registration | Refusal:
    return _REGISTER[request.ask](request.value, today)


def confirmation(reg: Registration, per_week: int) -> Decided:
    key = "timed_baby" if reg.series is Series.BABY else "timed_pregnancy"
    return Decided(key, (("date", shown(reg.anchor)), ("per_week", per_week)), registration=reg)


def decide(request: Request, today: date, per_week: int) -> Decided:
    """The reply to a family's command, and the change to make once it is committed."""
    if request.ask is Ask.USAGE:
        return Decided("timed_usage")
    if request.ask is Ask.LOSS:
        return Decided("timed_loss", change=lambda f: family.lose(f, today))
    if request.ask is Ask.FORGET:
        return Decided("timed_forget_ask", ask_forget=True)
    found = registration(request, today)
    if isinstance(found, Refusal):
        return Decided(REFUSALS[found])
    decided = confirmation(found, per_week)
    return Decided(decided.key, decided.fields, lambda f: family.register(f, found, today), found)
