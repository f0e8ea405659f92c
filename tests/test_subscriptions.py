"""Subscriptions: JOIN/LEAVE, a tip every N days in order, never during quiet hours."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot import quiet, subscriptions
from bot.store import Subscriptions
from tests.conftest import Phone, recorded
from tests.storeview import next_due

NAIROBI = ZoneInfo("Africa/Nairobi")  # UTC+3
PHONE = "+256712345678"  # Uganda: English first, UTC+3 like Nairobi


@pytest.mark.parametrize(
    "local_hour, quiet_now",
    [(20, False), (21, True), (23, True), (0, True), (7, True), (8, False), (12, False)],
)
def test_quiet_hours(local_hour, quiet_now):
    local = datetime(2026, 12, 1, local_hour, 30, tzinfo=NAIROBI)
    now = local.astimezone(timezone.utc)
    allowed = quiet.next_allowed(now, NAIROBI, (21, 8))
    assert (allowed > now) is quiet_now
    if quiet_now:
        assert allowed.astimezone(NAIROBI).hour == 8 and allowed.astimezone(NAIROBI).minute == 0
        assert allowed - now < timedelta(hours=12)


def test_timezone_from_the_number_or_the_override():
    assert quiet.timezone_for("+254712345678") == ZoneInfo("Africa/Nairobi")
    assert str(quiet.timezone_for("+919812345678")) in ("Asia/Kolkata", "Asia/Calcutta")
    assert quiet.timezone_for("+254712345678", "Europe/Paris") == ZoneInfo("Europe/Paris")


def test_join_confirms_once_and_schedules(services, client):
    phone = Phone(client, PHONE)
    reply = phone.text("JOIN MALARIA")
    assert "one Malaria tip every 7 days" in reply[0] and "LEAVE MALARIA" in reply[0] and "STOP" in reply[0]
    assert next_due(services.store, PHONE, "malaria") is not None
    assert "no more Malaria tips" in phone.text("LEAVE MALARIA")[0]
    assert next_due(services.store, PHONE, "malaria") is None


def test_join_without_a_topic_asks_which(client):
    assert "Which topic?" in Phone(client, PHONE).text("JOIN")[0]


def test_join_the_topic_being_read(services, client):
    phone = Phone(client, PHONE)
    phone.text("hygiene")
    assert "Hygiene tip" in phone.text("JOIN")[0]


def test_tips_come_in_order_every_interval_and_wait_for_morning(services, client, config):
    Phone(client, PHONE).text("JOIN MALARIA")
    r, keys = services.store.redis, services.store.keys
    start = datetime(2026, 12, 1, 10, 0, tzinfo=NAIROBI).astimezone(timezone.utc)
    r.zadd(keys.subscriptions_due(), {keys.subscription_member(PHONE, "malaria"): start.timestamp()})
    assert subscriptions.tick(services, now=start) == 1
    assert subscriptions.tick(services, now=start) == 0  # not due again yet
    night = start + timedelta(days=7, hours=12)  # 22:00 in Nairobi: deferred, not dropped
    assert subscriptions.tick(services, now=night) == 0
    morning = datetime.fromtimestamp(next_due(services.store, PHONE, "malaria"), timezone.utc)
    assert morning.astimezone(NAIROBI).hour == 8
    assert subscriptions.tick(services, now=morning) == 1
    bodies = [s["body"] for s in recorded(config)]
    malaria = services.catalog.language("en").topic("malaria").messages
    assert bodies == [malaria[0].short, malaria[1].short]


def test_the_series_ends_and_stop_stops_it(services, client, config):
    phone = Phone(client, PHONE)
    phone.text("JOIN MALARIA")
    r, keys = services.store.redis, services.store.keys
    now = datetime(2026, 12, 1, 9, 0, tzinfo=NAIROBI).astimezone(timezone.utc)
    r.zadd(keys.subscriptions_due(), {keys.subscription_member(PHONE, "malaria"): now.timestamp()})
    phone.text("STOP")
    assert subscriptions.tick(services, now=now) == 0
    assert recorded(config) == []


def test_stop_ends_subscriptions_and_group_memberships(services, client):
    phone = Phone(client, PHONE)
    services.store.redis.set(services.store.keys.invite(PHONE), '{"group": "kisumu", "by": "+256700000002"}')
    phone.text("YES")
    phone.text("JOIN MALARIA")
    r, keys = services.store.redis, services.store.keys
    assert r.sismember(keys.group("kisumu"), PHONE) and next_due(services.store, PHONE, "malaria")
    phone.text("STOP")
    assert not r.sismember(keys.group("kisumu"), PHONE)
    assert next_due(services.store, PHONE, "malaria") is None
    assert r.sismember(keys.optouts(), PHONE)
    phone.text("START")
    assert not r.sismember(keys.optouts(), PHONE) and not r.sismember(keys.group("kisumu"), PHONE)


def test_the_series_ends_with_its_last_tip(services, client, config):
    Phone(client, PHONE).text("JOIN MALARIA")
    series = Subscriptions(services.store)
    last = len(services.catalog.language("en").topic("malaria").messages) - 1
    keys = services.store.keys
    services.store.redis.hset(keys.subscription_positions(), keys.subscription_member(PHONE, "malaria"), last)
    now = datetime(2026, 12, 1, 10, 0, tzinfo=NAIROBI).astimezone(timezone.utc)
    series.defer(PHONE, "malaria", now.timestamp())
    assert subscriptions.tick(services, now=now) == 1
    assert recorded(config)[-1]["body"] == services.catalog.language("en").topic("malaria").messages[last].short
    assert next_due(services.store, PHONE, "malaria") is None
