"""Timed messages end to end: registered by SMS, time moved forward, sent by a real RQ worker.

Each test registers a family through the webhook, then moves a clock of its own forward: a
scheduler tick at that time (bot.timed.tick) and a burst of an RQ worker (factsbot's
SimpleWorker, real Redis) on the bulk queue. What the `record` provider got is compared with
what bot/schedule.py plans for the family. No sleeping, no mocks.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from bot import family, quiet, schedule, segments, timed
from bot.schedule import Kind, Planned, Series
from bot.store import Registrations
from tests.conftest import Phone, drain, recorded
from tests.storeview import keys_holding

KENYA = "+254712345678"  # Kiswahili first, Africa/Nairobi
UGANDA = "+256712345678"  # English, UTC+3


def at(day: date, hour: int, phone: str, minute: int = 0) -> datetime:
    """`hour` o'clock on `day` where `phone` lives, in UTC."""
    return datetime.combine(day, time(hour, minute), quiet.timezone_for(phone)).astimezone(timezone.utc)


def run(svc, config, phone: str, first: date, days: int, hour: int = 10) -> list[tuple[date, str]]:
    """Tick once a day at `hour` local time and let a worker send; (day, what) for each SMS to `phone`."""
    out = []
    for n in range(days):
        day = first + timedelta(days=n)
        before = len(recorded(config))
        timed.tick(svc, now=at(day, hour, phone))
        drain(svc, "bulk")
        out += [(day, s["message"]) for s in recorded(config)[before:] if s["to"] == phone]
    return out


def expected(svc, items: list[Planned], until: date, sent=(), after=None) -> list[tuple[date, str]]:
    """What bot/schedule.py plans, spread one a day; a catch-up item goes out on the day of registering
    (`after` defaults to the day before the earliest registration)."""
    p = timed.plans(svc).planner
    if after is None:
        after = min(i.day for i in items if i.day >= min(i.day for i in items)) - timedelta(days=1)
        after = max(after, timed.today_for(svc, UGANDA) - timedelta(days=1))
    spread = schedule.spread(items, sent=sent, after=after, canonical=p.canonical)
    return [(i.day, i.id if i.kind is Kind.TIP else f"reminder_{i.id}") for i in spread if i.day <= until]


def plan(svc, series: Series, anchor: date, registered_on: date) -> list[Planned]:
    return list(timed.plans(svc).planner.plan(family.Enrolment(series, anchor, registered_on)))


@pytest.fixture
def svc(services):
    return services


def test_a_baby_registered_by_sms_gets_exactly_the_plan_one_a_day_in_english(svc, client, config):
    phone = Phone(client, UGANDA)
    today = timed.today_for(svc, UGANDA)
    born = today - timedelta(days=3)
    reply = phone.text(f"BABY {born:%d-%m-%Y}")
    assert "is registered" in reply[0] and "a week" in reply[0] and "STOP" in reply[0]
    got = run(svc, config, UGANDA, today, 60)
    assert got == expected(svc, plan(svc, Series.BABY, born, today), today + timedelta(days=59))
    english = svc.catalog.language("en")
    bodies = [s["body"] for s in recorded(config)]
    assert english.texts["reminder_postnatal_week2"] in bodies
    assert english.message("breastfeeding-3")[1].short in bodies


@pytest.mark.parametrize(
    ("number", "lang", "words"),
    [("+221771234567", "fr", "BEBE"), (KENYA, "sw", "MTOTO"), ("+919812345678", "hi", "बच्चा")],
)
def test_each_family_is_sent_its_own_language(svc, client, config, number, lang, words):
    today = timed.today_for(svc, number)
    born = today - timedelta(days=1)
    reply = Phone(client, number).text(f"{words} {born:%d-%m-%Y}")
    opening = svc.catalog.language(lang).texts["timed_baby"].split("{")[0].strip()
    assert opening in reply[0] and f"{born:%d-%m-%Y}" in "".join(reply)
    run(svc, config, number, today, 6)
    texts = svc.catalog.language(lang)
    sent = [s for s in recorded(config) if s["to"] == number]
    assert [s["message"] for s in sent] == [m for _, m in expected(svc, plan(svc, Series.BABY, born, today),
                                                                  today + timedelta(days=5))]  # fmt: skip
    for s in sent:
        item = Planned(today, Kind.TIP, s["message"]) if not s["message"].startswith("reminder_") else \
            Planned(today, Kind.REMINDER, s["message"].removeprefix("reminder_"))  # fmt: skip
        assert s["body"] == segments.smart_encode(timed.text_of(svc, lang, item))
    assert any(texts.texts["reminder_postnatal_day3"][:20] in s["body"] for s in sent)


def test_night_waits_for_the_morning_in_nairobi(svc, client, config):
    today = timed.today_for(svc, KENYA)
    Phone(client, KENYA).text(f"MTOTO {today:%d-%m-%Y}")  # born today: the birth vaccines are due now
    timed.tick(svc, now=at(today, 22, KENYA))
    drain(svc, "bulk")
    assert recorded(config) == []
    morning = at(today + timedelta(days=1), 8, KENYA)
    assert Registrations(svc.store).next_due(KENYA) == morning.timestamp()
    timed.tick(svc, now=morning - timedelta(minutes=1))
    drain(svc, "bulk")
    assert recorded(config) == []
    timed.tick(svc, now=morning)
    drain(svc, "bulk")
    assert [s["message"] for s in recorded(config)] == ["reminder_vaccines_birth"]


def test_a_birth_hands_over_from_the_pregnancy_without_gap_or_repeat(svc, client, config):
    phone = Phone(client, UGANDA)
    today = timed.today_for(svc, UGANDA)
    due = today + timedelta(weeks=6)  # 34 weeks pregnant
    assert "is registered" in phone.text(f"DUE {due:%d-%m-%Y}")[0]
    first = run(svc, config, UGANDA, today, 2)
    assert first == [(today, "reminder_anc_34"), (today + timedelta(days=1), "safe-motherhood-6")]
    phone.text(f"BABY {today:%d-%m-%Y}")  # born today, told two days later (as far as the clock goes)
    after = run(svc, config, UGANDA, today + timedelta(days=2), 30)
    want = expected(svc, plan(svc, Series.BABY, today, today), today + timedelta(days=31), sent=["safe-motherhood-6"],
                    after=today + timedelta(days=1))  # fmt: skip
    assert after == want and after[0][1] == "reminder_vaccines_birth"
    ids = [m for _, m in first + after]
    assert len(ids) == len(set(ids))
    assert not {"reminder_birth_plan", "reminder_anc_late", "reminder_due_week"} & set(ids)


def test_loss_stops_the_baby_messages_at_once_and_sends_the_support_series(svc, client, config):
    phone = Phone(client, UGANDA)
    today = timed.today_for(svc, UGANDA)
    phone.text(f"BABY {today - timedelta(days=3):%d-%m-%Y}")
    run(svc, config, UGANDA, today, 1)
    assert phone.text("loss") == [svc.catalog.language("en").texts["timed_loss"]]
    after = run(svc, config, UGANDA, today + timedelta(days=1), 40)
    assert [m for _, m in after] == ["reminder_loss_1", "reminder_loss_2", "reminder_loss_3"]
    # Day 0 of the support series waits a day: a baby message went out today (one a day).
    assert [(d - today).days for d, _ in after] == [1, 2, 7]
    assert Registrations(svc.store).next_due(UGANDA) is None  # the series ended


def test_several_children_share_one_a_day_and_no_repeats(svc, client, config):
    phone = Phone(client, UGANDA)
    today = timed.today_for(svc, UGANDA)
    older, younger = today - timedelta(days=300), today - timedelta(days=5)
    phone.text(f"BABY {older:%d-%m-%Y}")
    phone.text(f"BABY {younger:%d-%m-%Y}")
    got = run(svc, config, UGANDA, today, 45)
    items = plan(svc, Series.BABY, older, today) + plan(svc, Series.BABY, younger, today)
    assert got == expected(svc, items, today + timedelta(days=44))
    assert len({d for d, _ in got}) == len(got)


def test_stop_ends_the_series_and_nothing_more_is_sent(svc, client, config):
    phone = Phone(client, UGANDA)
    today = timed.today_for(svc, UGANDA)
    phone.text(f"BABY {today:%d-%m-%Y}")
    phone.text("STOP")
    assert run(svc, config, UGANDA, today, 5) == []
    assert Registrations(svc.store).family(UGANDA) == ""


def test_a_send_is_claimed_once_however_often_its_job_runs(svc, client, config):
    today = timed.today_for(svc, UGANDA)
    Phone(client, UGANDA).text(f"BABY {today:%d-%m-%Y}")
    now = at(today, 10, UGANDA)
    for _ in range(3):  # a retried job, a copy alongside it, a tick run again by hand
        timed.send_batch(svc, [UGANDA], now.timestamp())
    assert [s["message"] for s in recorded(config)] == ["reminder_vaccines_birth"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("BABY 31-02-2026", "timed_bad_date"),
        ("BABY 12-03-26", "timed_bad_date"),
        ("BABY 01-01-2099", "timed_future_birth"),
        ("BABY 01-01-2001", "timed_too_old"),
        ("DUE 01-01-2020", "timed_due_passed"),
        ("DUE 01-01-2099", "timed_due_too_far"),
        ("PREGNANT 99", "timed_bad_weeks"),
        ("BABY", "timed_usage"),
    ],
)
def test_a_wrong_date_gets_a_correction_and_registers_nothing(svc, client, text, key):
    reply = Phone(client, UGANDA).text(text)
    assert "\n".join(reply) == svc.catalog.language("en").texts[key]
    assert Registrations(svc.store).family(UGANDA) == ""


def test_forget_after_yes_erases_the_person_and_keeps_their_log_entries_without_the_number(svc, client, config):
    phone = Phone(client, UGANDA)
    store, keys = svc.store, svc.store.keys
    today = timed.today_for(svc, UGANDA)
    store.redis.set(keys.invite(UGANDA), '{"group": "kisumu", "by": "+256700000002"}')
    phone.text("YES")
    phone.text("JOIN MALARIA")
    phone.text(f"BABY {today:%d-%m-%Y}")
    assert "YES" in phone.text("FORGET")[0]
    phone.text("MENU")  # anything else keeps everything
    phone.text("YES")
    assert Registrations(store).family(UGANDA) != ""
    drain(svc, "replies")  # the registration's confirmation goes out, and leaves its delivery record
    assert keys_holding(store, UGANDA) != []
    logged = store.redis.xlen(keys.log())
    phone.text("FORGET")
    assert phone.text("YES") == [svc.catalog.language("en").texts["timed_forgotten"]]
    assert keys_holding(store, UGANDA) == []  # neither in a key's name nor in any value, the log included
    assert not store.redis.sismember(keys.group("kisumu"), UGANDA)
    assert store.redis.zscore(keys.subscriptions_due(), keys.subscription_member(UGANDA, "malaria")) is None
    assert Registrations(store).next_due(UGANDA) is None
    entries = store.redis.xrange(keys.log())
    assert len(entries) == logged + 4  # FORGET, its reply, YES, its reply: every entry kept
    assert not any(UGANDA.encode() in b"".join(v for kv in fields.items() for v in kv) for _, fields in entries)
    assert run(svc, config, UGANDA, today, 2) == []


def test_a_family_registered_by_ussd_gets_the_plan_and_an_sms_saying_how_to_stop(svc, client, config):
    from tests.test_ussd import Dialer

    dialer = Dialer(client, phone=UGANDA)
    today = timed.today_for(svc, UGANDA)
    dialer.dial()  # a first contact's welcome pushes the menu's last lines behind 98
    assert "88 Baby" in dialer.press("00")
    assert "1 My baby is born" in dialer.press("88")
    assert "birth date" in dialer.press("1")
    wrong = dialer.press("31-02-2026")
    assert wrong.startswith("CON Sorry, we cannot read that date") and "birth date" in wrong
    born = today - timedelta(days=2)
    done = dialer.press(f"{born:%d-%m-%Y}")
    assert done.startswith("END Thank you. Your baby born") and Registrations(svc.store).family(UGANDA)
    drain(svc, "replies")
    (confirmation,) = recorded(config)
    assert "STOP" in confirmation["body"] and f"{born:%d-%m-%Y}" in confirmation["body"]
    got = run(svc, config, UGANDA, today, 20)
    assert got == expected(svc, plan(svc, Series.BABY, born, today), today + timedelta(days=19))


def test_the_pregnancy_screen_takes_a_due_date_and_00_goes_back_to_the_menu(svc, client):
    from tests.test_ussd import Dialer

    dialer = Dialer(client, phone=UGANDA)
    dialer.dial()
    dialer.press("88")
    assert "Choose a topic" in dialer.press("00")  # the menu's own keys work on these screens
    assert dialer.press("1").startswith("CON Timing births 1/")  # topic 1, as ever: the 88 screens are left
    dialer.dial()
    dialer.press("88")
    dialer.press("2")
    due = timed.today_for(svc, UGANDA) + timedelta(weeks=10)
    assert dialer.press(f"{due:%d-%m-%Y}").startswith("END Thank you. Your due date")


def test_a_field_worker_registers_a_baby_that_counts_only_after_the_familys_yes(svc, client, config):
    from bot.store import FieldWorkers

    FieldWorkers(svc.store).add("+256700000002", "Amina", ["kisumu"])
    worker = Phone(client, "+256700000002")
    today = timed.today_for(svc, UGANDA)
    born = today - timedelta(days=2)
    assert "Sorry, we cannot read that date" in worker.text(f"REG {UGANDA} KISUMU BABY 31-02-2026")[0]
    assert "Invited" in worker.text(f"REG {UGANDA} KISUMU BABY {born:%d-%m-%Y}")[0]
    drain(svc, "replies")
    assert run(svc, config, UGANDA, today, 1) == []  # invited, not registered: nothing until YES
    assert Registrations(svc.store).family(UGANDA) == ""
    assert "KISUMU" in Phone(client, UGANDA).text("YES")[0]
    drain(svc, "replies")
    assert "is registered" in recorded(config)[-1]["body"]
    got = run(svc, config, UGANDA, today, 10)
    assert got == expected(svc, plan(svc, Series.BABY, born, today), today + timedelta(days=9))


def test_forget_also_erases_the_questions_they_asked_and_keeps_others(svc, client):
    from bot.store.questions import Questions

    questions = Questions(svc.store, 90)
    asker, other = Phone(client, UGANDA), Phone(client, "+256712345679")
    asker.text("is it safe to breastfeed when I have malaria")
    asker.text("how often should my baby be weighed at the clinic")
    other.text("what should I feed my baby after six months")
    assert {q["phone"] for q in questions.open()} == {UGANDA, "+256712345679"} and len(questions.open()) == 3
    asker.text("FORGET")
    asker.text("YES")
    assert [q["phone"] for q in questions.open()] == ["+256712345679"]
    assert svc.store.redis.zcard(svc.store.keys.questions_asked()) == 1
    assert questions.erase_person("+256700000000") == 0
