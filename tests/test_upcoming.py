"""`factsbot schedule preview`: what a family will receive, shown before it happens and then checked
against what a real RQ worker sends when the tests' clock moves forward (tests/test_timed.py's clock)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from click.testing import CliRunner

from bot import timed, upcoming
from bot.cli import main
from bot.store import Registrations
from tests.conftest import Phone, recorded
from tests.test_timed import KENYA, UGANDA, at, run


def state(svc, phone: str) -> tuple:
    """Everything a preview must leave as it was: the family, when it is due, the log, what was sent."""
    store, regs = svc.store, Registrations(svc.store)
    return regs.family(phone), regs.next_due(phone), store.redis.xlen(store.keys.log()), store.profile_fields(phone)


def local_days(items: list[dict]) -> list[tuple[date, str]]:
    return [(datetime.fromisoformat(i["due"]).date(), i["id"] if i["kind"] == "tip" else f"reminder_{i['id']}")
            for i in items]  # fmt: skip


def test_the_preview_is_what_the_worker_then_sends_day_by_day_and_changes_nothing(services, client, config):
    svc, phone = services, Phone(client, UGANDA)
    today = timed.today_for(svc, UGANDA)
    phone.text(f"BABY {today - timedelta(days=300):%d-%m-%Y}")  # two children: one a day between them
    phone.text(f"BABY {today - timedelta(days=3):%d-%m-%Y}")
    before = state(svc, UGANDA)
    items = upcoming.preview(svc, UGANDA, today + timedelta(days=59), now=at(today, 10, UGANDA))
    assert state(svc, UGANDA) == before and recorded(config) == []
    assert len(items) > 10 and {i["kind"] for i in items} == {"tip", "reminder"}
    got = run(svc, config, UGANDA, today, 60)
    assert local_days(items) == got
    assert [i["text"] for i in items] == [s["body"] for s in recorded(config)]
    assert all(datetime.fromisoformat(i["due"]).utcoffset() == timedelta(hours=3) for i in items)


def test_a_pregnancy_preview_hands_over_to_the_baby_as_the_worker_does(services, client, config):
    svc, phone = services, Phone(client, UGANDA)
    today = timed.today_for(svc, UGANDA)
    phone.text(f"DUE {today + timedelta(weeks=3):%d-%m-%Y}")
    items = upcoming.preview(svc, UGANDA, today + timedelta(days=4), now=at(today, 10, UGANDA))
    assert local_days(items) == run(svc, config, UGANDA, today, 5)
    phone.text(f"BABY {today:%d-%m-%Y}")  # born early, told five days later (as far as the clock goes)
    later = upcoming.preview(svc, UGANDA, today + timedelta(days=40), now=at(today + timedelta(days=5), 10, UGANDA))
    assert local_days(later) == run(svc, config, UGANDA, today + timedelta(days=5), 36)
    ids = [i["id"] for i in items + later]
    assert later and len(ids) == len(set(ids))


def test_night_in_nairobi_puts_the_first_message_at_eight_in_the_morning_in_kiswahili(services, client, config):
    svc = services
    today = timed.today_for(svc, KENYA)
    Phone(client, KENYA).text(f"MTOTO {today:%d-%m-%Y}")
    items = upcoming.preview(svc, KENYA, today + timedelta(days=3), now=at(today, 22, KENYA))
    assert items[0]["due"] == f"{today + timedelta(days=1)}T08:00:00+03:00"
    assert items[0]["id"] == "vaccines_birth" and items[0]["kind"] == "reminder"
    assert items[0]["text"] == svc.catalog.language("sw").texts["reminder_vaccines_birth"]
    assert [i["due"][:10] for i in items] == [f"{today + timedelta(days=n)}" for n in range(1, len(items) + 1)]


def test_stop_and_loss_show_what_the_workers_would_do(services, client, config):
    svc, phone = services, Phone(client, UGANDA)
    today = timed.today_for(svc, UGANDA)
    phone.text(f"BABY {today:%d-%m-%Y}")
    phone.text("LOSS")
    items = upcoming.preview(svc, UGANDA, today + timedelta(days=30), now=at(today, 10, UGANDA))
    assert [i["kind"] for i in items] == ["support"] * 3
    phone.text("STOP")
    assert upcoming.preview(svc, UGANDA, today + timedelta(days=30), now=at(today, 10, UGANDA)) == []
    assert upcoming.preview(svc, "+256700000099", today + timedelta(days=30)) == []  # never registered


def test_the_command_prints_one_json_array(services, client, monkeypatch, redis_url, prefix):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_PREFIX", prefix)
    today = timed.today_for(services, UGANDA)
    Phone(client, UGANDA).text(f"BABY {today - timedelta(days=3):%d-%m-%Y}")
    until, now = today + timedelta(days=30), at(today, 10, UGANDA)
    result = CliRunner().invoke(main, ["schedule", "preview", UGANDA, "--until", f"{until}", "--json",
                                       "--now", now.isoformat()])  # fmt: skip
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)
    assert items == upcoming.preview(services, UGANDA, until, now=now)
    assert items and all(set(i) == {"due", "kind", "id", "text"} for i in items)
    text = CliRunner().invoke(main, ["schedule", "preview", UGANDA, "--until", f"{until}", "--now", now.isoformat()])
    assert text.exit_code == 0 and items[0]["text"] in text.output
    bad = CliRunner().invoke(main, ["schedule", "preview", UGANDA, "--until", "June"])
    assert bad.exit_code != 0 and "not a date" in bad.output
