"""Where a registration is today: pregnancy week and trimester, the child's age and age band. Pure.

Operators read registrations by stage (the overview) and target broadcasts at one (babies
aged 8-10 months for a measles campaign). Both work from what is stored: a registration's
series and anchor (due date or birth date), so a stage is always today's, never a stale label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from bot.family import Family
from bot.schedule import DUE_WEEK, MAX_CHILD_YEARS, MAX_PREGNANCY_WEEKS, Series, add_months

TRIMESTERS = ("Pregnant, 1st trimester (weeks 1-13)", "Pregnant, 2nd trimester (weeks 14-27)",
              "Pregnant, 3rd trimester (week 28 on)")  # fmt: skip
# (label, age in months reached; weeks as a fraction are compared in days, see age_band)
AGE_BANDS = ("Baby, 0-6 weeks", "Baby, 6 weeks-6 months", "Baby, 6-12 months", "Child, 1-2 years",
             "Child, 2-5 years")  # fmt: skip
LOSS = "Support after a loss"
ORDER = (*TRIMESTERS, *AGE_BANDS, LOSS)
_ANCHOR = re.compile(r"^([pbl])([0-9]{8})$")
_RANGE = re.compile(r"^\s*([0-9]{1,2})\s*(?:-\s*([0-9]{1,2})\s*)?$")
# The oldest age in months (under five) and the latest week of pregnancy a broadcast can target.
HIGHEST = {Series.BABY: MAX_CHILD_YEARS * 12 - 1, Series.PREGNANCY: MAX_PREGNANCY_WEEKS}


def pregnancy_weeks(due: date, today: date) -> int:
    """Completed weeks of pregnancy today, counted from the last period as clinics do (due date = week 40)."""
    return (DUE_WEEK * 7 - (due - today).days) // 7


def age_months(born: date, today: date) -> int:
    """Completed months of age today (-1 before birth)."""
    months = (today.year - born.year) * 12 + today.month - born.month
    return months if add_months(born, months) <= today else months - 1


def trimester(due: date, today: date) -> str:
    weeks = pregnancy_weeks(due, today)
    return TRIMESTERS[0 if weeks < 14 else 1 if weeks < 28 else 2]


def age_band(born: date, today: date) -> str:
    months = age_months(born, today)
    if (today - born).days < 42:
        return AGE_BANDS[0]
    return AGE_BANDS[1 if months < 6 else 2 if months < 12 else 3 if months < 24 else 4]


def by_stage(anchors: Mapping[str, int], today: date) -> dict[str, int]:
    """Registrations per stage today, from counts per stored anchor ("b20260312" -> 41), in ORDER."""
    found = dict.fromkeys(ORDER, 0)
    for anchor, n in anchors.items():
        m = _ANCHOR.match(anchor)
        if not m or n <= 0:
            continue
        day = date(int(m[2][:4]), int(m[2][4:6]), int(m[2][6:]))
        stage = LOSS if m[1] == "l" else trimester(day, today) if m[1] == "p" else age_band(day, today)
        found[stage] += n
    return found


# -- a broadcast's stage -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Registrations in a stage: babies aged `low`-`high` completed months, or `low`-`high` weeks pregnant."""

    series: Series  # BABY (months of age) or PREGNANCY (weeks)
    low: int
    high: int

    def __str__(self) -> str:
        unit = "months old" if self.series is Series.BABY else "weeks pregnant"
        return f"{self.low}-{self.high} {unit}"

    @property
    def stored(self) -> str:
        """As kept on a broadcast's record: "baby:8-10"."""
        return f"{self.series.value}:{self.low}-{self.high}"

    def holds(self, fam: Family, today: date) -> bool:
        """Whether any of the family's registrations is in this stage today."""
        for e in fam.enrolments:
            if e.series is not self.series:
                continue
            value = age_months(e.anchor, today) if e.series is Series.BABY else pregnancy_weeks(e.anchor, today)
            if self.low <= value <= self.high:
                return True
        return False


def parse_target(text: str, series: Series) -> Target | None:
    """ "8-10" (or "9") months of age or weeks of pregnancy; None when it cannot be read or is out of range."""
    m = _RANGE.match(text or "")
    if not m:
        return None
    low, high = int(m[1]), int(m[2] or m[1])
    return Target(series, low, high) if low <= high <= HIGHEST[series] else None


def stored_target(value: str) -> Target | None:
    """A broadcast record's stage ("baby:8-10"), or None for a broadcast to whole groups."""
    series, _, rng = (value or "").partition(":")
    if series not in (Series.BABY.value, Series.PREGNANCY.value):
        return None
    return parse_target(rng, Series(series))


def matching(families: Iterable[tuple[str, Family]], target: Target, today: date) -> list[str]:
    """The phones whose family is in the stage."""
    return [phone for phone, fam in families if target.holds(fam, today)]
