"""bot/schedule.py: reading the schedule, registrations and one person's plan, as tables."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot import content, schedule
from bot.schedule import Kind, Planned, Refusal, Registration, Series

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12-03-2026", date(2026, 3, 12)),
        ("12/3/2026", date(2026, 3, 12)),
        ("12.03.2026", date(2026, 3, 12)),
        ("2026-03-12", date(2026, 3, 12)),
        (" 1-1-2026 ", date(2026, 1, 1)),
        ("31-02-2026", None),  # no such day
        ("29-02-2024", date(2024, 2, 29)),
        ("12-13-2026", None),
        ("１２-03-2026", None),  # full-width digits are not read as numbers
        ("1²-03-2026", None),
        ("12-03-26", None),
        ("", None),
        ("tomorrow", None),
    ],
)
def test_parse_date(text, expected):
    assert schedule.parse_date(text) == expected


@pytest.mark.parametrize(
    ("register", "text", "expected"),
    [
        (schedule.register_baby, "12-03-2026", Registration(Series.BABY, date(2026, 3, 12))),
        (schedule.register_baby, "01-12-2026", Registration(Series.BABY, TODAY)),  # born today
        (schedule.register_baby, "02-12-2026", Refusal.FUTURE_BIRTH),
        (schedule.register_baby, "02-12-2021", Registration(Series.BABY, date(2021, 12, 2))),  # a day short of 5
        (schedule.register_baby, "01-12-2021", Refusal.TOO_OLD),
        (schedule.register_baby, "30-02-2026", Refusal.BAD_DATE),
        (schedule.register_due, "01-03-2027", Registration(Series.PREGNANCY, date(2027, 3, 1))),
        (schedule.register_due, "30-11-2026", Refusal.DUE_PASSED),
        (schedule.register_due, "01-12-2027", Refusal.DUE_TOO_FAR),
        (schedule.register_weeks, "20", Registration(Series.PREGNANCY, TODAY + timedelta(weeks=20))),
        (schedule.register_weeks, "40", Registration(Series.PREGNANCY, TODAY)),
        (schedule.register_weeks, "0", Refusal.BAD_WEEKS),
        (schedule.register_weeks, "43", Refusal.BAD_WEEKS),
        (schedule.register_weeks, "²", Refusal.BAD_WEEKS),
        (schedule.register_weeks, "twenty", Refusal.BAD_WEEKS),
    ],
)
def test_registration(register, text, expected):
    assert register(text, TODAY) == expected


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 3, 12), 9, date(2026, 12, 12)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 3, 12), 60, date(2031, 3, 12)),
    ],
)
def test_add_months(start, months, expected):
    assert schedule.add_months(start, months) == expected


def small(rows: dict) -> schedule.Schedule:
    return schedule.parse(rows)


def test_pregnancy_weeks_count_back_from_the_due_date():
    s = small({"pregnancy": [{"week": 38, "reminder": "r38"}, {"week": 40, "messages": ["a-1"]}]})
    due = date(2027, 3, 1)
    assert schedule.plan(s, Series.PREGNANCY, due, TODAY) == [
        Planned(due - timedelta(weeks=2), Kind.REMINDER, "r38"),
        Planned(due, Kind.TIP, "a-1"),
    ]


def test_a_baby_month_is_a_calendar_month_and_weeks_are_weeks():
    s = small({"baby": [{"month": 9, "reminder": "measles"}, {"week": 6, "reminder": "v6"},
                        {"day": 0, "messages": ["b-1"]}]})
    born = date(2026, 3, 12)
    assert schedule.plan(s, Series.BABY, born, born) == [
        Planned(born, Kind.TIP, "b-1"),
        Planned(born + timedelta(weeks=6), Kind.REMINDER, "v6"),
        Planned(date(2026, 12, 12), Kind.REMINDER, "measles"),
    ]


def test_registering_late_skips_what_is_past_but_the_latest_within_a_week():
    s = small({"baby": [{"day": 0, "reminder": "birth"}, {"week": 6, "reminder": "v6"},
                        {"week": 10, "reminder": "v10"}]})
    born = date(2026, 1, 1)
    plan = schedule.plan(s, Series.BABY, born, born + timedelta(weeks=6, days=3))
    assert [p.id for p in plan] == ["v6", "v10"]
    plan = schedule.plan(s, Series.BABY, born, born + timedelta(weeks=7, days=1))
    assert [p.id for p in plan] == ["v10"]


def test_the_same_fact_is_planned_once_even_through_same_as():
    s = small({"baby": [{"day": 1, "messages": ["nutrition-2"]}, {"day": 5, "messages": ["breastfeeding-1"]}]})
    canonical = {"nutrition-2": "breastfeeding-1"}.get
    plan = schedule.plan(s, Series.BABY, TODAY, TODAY, canonical=lambda m: canonical(m, m))
    assert [p.id for p in plan] == ["nutrition-2"]


def test_spread_sends_at_most_one_a_day_and_never_a_sent_fact_again():
    day = date(2027, 1, 5)
    items = [Planned(day, Kind.REMINDER, "v6"), Planned(day, Kind.TIP, "a-1"), Planned(day, Kind.TIP, "a-2"),
             Planned(day + timedelta(days=5), Kind.TIP, "a-3")]  # fmt: skip
    assert schedule.spread(items, sent=["a-2"]) == [
        Planned(day, Kind.REMINDER, "v6"),
        Planned(day + timedelta(days=1), Kind.TIP, "a-1"),
        Planned(day + timedelta(days=5), Kind.TIP, "a-3"),
    ]
    # The last timed message went out on `day`: nothing more that day.
    assert schedule.spread(items[:1], after=day) == [Planned(day + timedelta(days=1), Kind.REMINDER, "v6")]


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ({"pregnancy": [{"day": 3, "messages": ["a-1"]}]}, "needs exactly one of week"),
        ({"baby": [{"week": 6, "month": 2, "messages": ["a-1"]}]}, "needs exactly one of"),
        ({"baby": [{"week": -1, "messages": ["a-1"]}]}, "whole number"),
        ({"baby": [{"week": True, "messages": ["a-1"]}]}, "whole number"),
        ({"baby": [{"week": 6}]}, "needs messages or a reminder"),
        ({"baby": [{"week": 6, "messages": "a-1"}]}, "must be a list of key message ids"),
        ({"baby": "often"}, "must be a list"),
        ({"max_per_week": 9}, "max_per_week"),
    ],
)
def test_malformed_schedules_are_refused_with_the_place(rows, problem):
    with pytest.raises(schedule.ScheduleError) as e:
        schedule.parse(rows)
    assert any(problem in p for p in e.value.problems), e.value.problems


def test_problems_name_unknown_ids_repeats_and_crowded_weeks():
    s = small({"max_per_week": 2, "baby": [
        {"day": 0, "messages": ["a-1", "zz-9"]}, {"day": 1, "messages": ["b-1"]}, {"day": 2, "reminder": "nope"},
        {"week": 3, "messages": ["a-2"]}]})  # fmt: skip
    found = schedule.problems(s, {"a-1", "a-2", "b-1"}, {"a-2": "a-1"}, {"other"})
    assert any("no key message 'zz-9'" in p for p in found)
    assert any("a-2 repeats a-1" in p for p in found)
    assert any("reminder 'nope'" in p for p in found)
    assert any("more than 2 messages in the week" in p for p in found)


def test_the_shipped_schedule_uses_existing_messages_once_and_keeps_to_its_weekly_cap():
    s = schedule.load(ROOT / "messages" / "schedules.yaml")
    english = content.load(ROOT / "messages").language("en")
    ids = {m.id for t in english.topics for m in t.messages}
    same_as = {m.id: m.same_as for t in english.topics for m in t.messages if getattr(m, "same_as", "")}
    reminders = {key.removeprefix("reminder_") for key in english.texts if key.startswith("reminder_")}
    found = schedule.problems(s, ids, same_as, reminders)
    assert found == []
    # WHO's routine schedule: birth, 6, 10 and 14 weeks, 9 months, and the second measles dose.
    vaccines = {(e.unit, e.n) for e in s.entries[Series.BABY] if e.reminder.startswith("vaccines_")}
    assert {("day", 0), ("week", 6), ("week", 10), ("week", 14), ("month", 9), ("month", 15)} <= vaccines
