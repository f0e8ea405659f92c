"""bot/family.py and bot/registering.py: a family's timed messages and what it types, as tables. No Redis."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot import content, family, registering, schedule
from bot.family import Codebook, Enrolment, Family, Planner
from bot.registering import Ask, Request
from bot.schedule import Kind, Planned, Refusal, Registration, Series

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def catalog():
    return content.load(ROOT / "messages")


@pytest.fixture(scope="module")
def planner(catalog) -> Planner:
    english = catalog.language("en")
    same_as = {m.id: m.same_as for t in english.topics for m in t.messages if m.same_as}
    return Planner(schedule.load(ROOT / "messages" / "schedules.yaml"), same_as)


@pytest.fixture(scope="module")
def book(catalog) -> Codebook:
    english = catalog.language("en")
    return Codebook.of((t.chapter, m.number, m.id) for t in english.topics for m in t.messages)


def drain(fam: Family, planner: Planner, until: date) -> tuple[list[Planned], Family]:
    """What the family is sent, item by item, until `until` (the scheduler's decisions without Redis)."""
    out = []
    while (nxt := family.upcoming(fam, planner)) and nxt.day <= until:
        out.append(Planned(nxt.day, nxt.item.kind, nxt.item.id))
        fam = family.advance(fam, nxt, planner)
    return out, fam


def test_one_registration_gets_exactly_its_plan_spread_one_a_day(planner):
    born = TODAY - timedelta(days=3)
    fam = family.register(Family(), Registration(Series.BABY, born), TODAY)
    sent, _ = drain(fam, planner, TODAY + timedelta(days=5 * 365))
    expected = schedule.spread(planner.plan(fam.enrolments[0]), canonical=planner.canonical)
    assert sent == expected
    assert len({p.day for p in sent}) == len(sent)  # never two on a day


def test_two_children_share_what_was_sent_and_one_day(planner):
    fam = Family()
    older, younger = TODAY - timedelta(days=400), TODAY - timedelta(days=2)
    for born in (older, younger):
        fam = family.register(fam, Registration(Series.BABY, born), TODAY)
    until = TODAY + timedelta(days=800)
    sent, _ = drain(fam, planner, until)
    items = [*planner.plan(fam.enrolments[0]), *planner.plan(fam.enrolments[1])]
    assert sent == [p for p in schedule.spread(items, canonical=planner.canonical) if p.day <= until]
    tips = [p.id for p in sent if p.kind is Kind.TIP]
    assert len(tips) == len(set(tips))
    assert [p.id for p in sent].count("vaccines_6_weeks") == 1  # the older child is past it; the younger gets it


def test_a_birth_hands_the_pregnancy_over_without_repeats(planner):
    due = TODAY + timedelta(weeks=6)  # week 34
    fam = family.register(Family(), Registration(Series.PREGNANCY, due), TODAY)
    before, fam = drain(fam, planner, TODAY + timedelta(days=1))
    assert [p.id for p in before] == ["anc_34", "safe-motherhood-6"]
    born = TODAY + timedelta(days=2)
    fam = family.register(fam, Registration(Series.BABY, born), born)
    assert family.series_of(fam) == {Series.BABY}
    after, _ = drain(fam, planner, born + timedelta(days=30))
    assert after[0] == Planned(born, Kind.REMINDER, "vaccines_birth")
    assert "safe-motherhood-6" not in [p.id for p in after]  # sent in pregnancy: the fact is not repeated
    assert not {"birth_plan", "anc_late", "due_week", "born_yet"} & {p.id for p in after}


def test_a_loss_stops_everything_but_the_support_series(planner):
    fam = family.register(Family(), Registration(Series.BABY, TODAY - timedelta(days=20)), TODAY)
    fam = family.register(fam, Registration(Series.PREGNANCY, TODAY + timedelta(weeks=20)), TODAY)
    fam = family.lose(fam, TODAY)
    sent, end = drain(fam, planner, TODAY + timedelta(days=365))
    assert [(p.day - TODAY).days for p in sent] == [0, 2, 7]
    assert [p.id for p in sent] == ["loss_1", "loss_2", "loss_3"] and all(p.kind is Kind.SUPPORT for p in sent)
    assert end.empty  # the series ended: nothing is kept scheduled


def test_the_same_child_twice_is_one_registration_and_a_new_due_date_replaces_the_old():
    reg = Registration(Series.BABY, TODAY - timedelta(days=10))
    once = family.register(Family(), reg, TODAY)
    assert family.register(once, reg, TODAY + timedelta(days=3)) == once
    p1 = family.register(once, Registration(Series.PREGNANCY, TODAY + timedelta(weeks=10)), TODAY)
    p2 = family.register(p1, Registration(Series.PREGNANCY, TODAY + timedelta(weeks=11)), TODAY)
    assert [e.anchor for e in p2.enrolments if e.series is Series.PREGNANCY] == [TODAY + timedelta(weeks=11)]


def test_the_stored_form_round_trips_and_stays_small(planner, book):
    fam = family.register(Family(), Registration(Series.PREGNANCY, TODAY + timedelta(weeks=12)), TODAY)
    fam = family.register(fam, Registration(Series.BABY, TODAY - timedelta(days=700)), TODAY)
    _, fam = drain(fam, planner, TODAY + timedelta(days=70))
    fam = Family(fam.enrolments, fam.sent | {"not-in-the-book-99"}, fam.last)
    text = family.encode(fam, book)
    assert family.decode(text, book) == fam
    assert len(text) < 120, text
    assert family.decode("garbage;;", book) == Family() and family.decode("", book) == Family()


def test_positions_survive_the_stored_form(book):
    e = Enrolment(Series.PREGNANCY, date(2027, 6, 1), date(2026, 12, 1), 4)
    assert family.decode(family.encode(Family((e,), frozenset(), date(2026, 12, 5)), book), book).enrolments == (e,)


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("en", "BABY 12-03-2026", Request(Ask.BABY, "12-03-2026")),
        ("en", "baby 12/3/2026", Request(Ask.BABY, "12/3/2026")),
        ("en", "BABY 12 03 2026", Request(Ask.BABY, "12-03-2026")),
        ("en", "PREGNANT 20", Request(Ask.PREGNANT, "20")),
        ("en", "pregnant 20 weeks", Request(Ask.PREGNANT, "20")),
        ("en", "DUE 01-06-2027", Request(Ask.DUE, "01-06-2027")),
        ("en", "PREGNANT", None),  # the safe-motherhood topic's keyword
        ("en", "BABY", Request(Ask.USAGE)),
        ("en", "baby has fever", None),  # a question, not a registration
        ("en", "LOSS", Request(Ask.LOSS)),
        ("en", "lost my baby", Request(Ask.LOSS)),
        ("en", "FORGET", Request(Ask.FORGET)),
        ("en", "I will not forget", None),
        ("fr", "BÉBÉ 12-03-2026", Request(Ask.BABY, "12-03-2026")),
        ("fr", "ENCEINTE 20", Request(Ask.PREGNANT, "20")),
        ("fr", "TERME 01-06-2027", Request(Ask.DUE, "01-06-2027")),
        ("fr", "ENCEINTE", None),
        ("fr", "fausse couche", Request(Ask.LOSS)),
        ("sw", "MTOTO 12-03-2026", Request(Ask.BABY, "12-03-2026")),
        ("sw", "mtoto ana homa", None),
        ("sw", "MIMBA 20", Request(Ask.PREGNANT, "20")),
        ("sw", "MIMBA", None),
        ("sw", "mimba imeharibika", Request(Ask.LOSS)),
        ("sw", "SAHAU", Request(Ask.FORGET)),
        ("hi", "बच्चा 12-03-2026", Request(Ask.BABY, "12-03-2026")),
        ("hi", "बच्चा २ दिन से बीमार", None),
        ("hi", "GARBHVATI 20", Request(Ask.PREGNANT, "20")),
        ("hi", "गर्भवती", None),
        ("hi", "गर्भपात", Request(Ask.LOSS)),
        ("hi", "BABY 12-03-2026", Request(Ask.BABY, "12-03-2026")),  # English words work in every language
    ],
)
def test_reading_what_a_family_types(catalog, lang, text, expected):
    assert registering.read(text, catalog.language(lang)) == expected


@pytest.mark.parametrize(
    ("request_", "key"),
    [
        (Request(Ask.BABY, "12-03-2026"), "timed_baby"),
        (Request(Ask.BABY, "02-12-2026"), "timed_future_birth"),
        (Request(Ask.BABY, "01-12-2021"), "timed_too_old"),
        (Request(Ask.BABY, "31-02-2026"), "timed_bad_date"),
        (Request(Ask.BABY, "१२-०३-२०२६"), "timed_bad_date"),  # Devanagari digits: read, refused, explained
        (Request(Ask.DUE, "30-11-2026"), "timed_due_passed"),
        (Request(Ask.DUE, "01-12-2027"), "timed_due_too_far"),
        (Request(Ask.PREGNANT, "43"), "timed_bad_weeks"),
        (Request(Ask.PREGNANT, "20"), "timed_pregnancy"),
        (Request(Ask.USAGE), "timed_usage"),
    ],
)
def test_every_answer_has_its_text_in_every_language(catalog, request_, key):
    decided = registering.decide(request_, TODAY, 3)
    assert decided.key == key
    assert (decided.change is not None) == (key in ("timed_baby", "timed_pregnancy"))
    for code in catalog.languages:
        text = decided.text(catalog.language(code))
        assert "{" not in text and text


def test_refusals_all_have_a_text():
    assert set(registering.REFUSALS) == set(Refusal)
