"""Broadcasts to a stage: a group's babies aged 8-10 months (a measles campaign) or its women 28-40 weeks
pregnant, chosen when the broadcast starts, by the command, the dashboard and a real RQ worker."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from bot import broadcasts, stages, timed
from bot.cli import main
from bot.schedule import Series, add_months
from bot.store import Broadcasts
from tests.conftest import Phone, drain, recorded
from tests.test_dashboard import dash, users  # noqa: F401  (fixtures)

NINE_MONTHS, THREE_MONTHS, PREGNANT, UNREGISTERED, OPTED_OUT, ELSEWHERE = (
    "+256712000001", "+256712000002", "+256712000003", "+256712000004", "+256712000005", "+256712000006")  # fmt: skip
MEASLES = stages.Target(Series.BABY, 8, 10)


@pytest.fixture
def kisumu(services, client):
    """A group of six kinds of family; the one elsewhere has a 9-month-old too but is in no group."""
    today = timed.today_for(services, NINE_MONTHS)
    born = {NINE_MONTHS: add_months(today, -9) - timedelta(days=5), THREE_MONTHS: add_months(today, -3),
            OPTED_OUT: add_months(today, -9), ELSEWHERE: add_months(today, -10)}  # fmt: skip
    for phone, day in born.items():
        Phone(client, phone).text(f"BABY {day:%d-%m-%Y}")
    Phone(client, PREGNANT).text("PREGNANT 30")
    Phone(client, UNREGISTERED).text("hi")
    Phone(client, OPTED_OUT).text("STOP")
    redis, keys = services.store.redis, services.store.keys
    redis.sadd(keys.group("kisumu"), NINE_MONTHS, THREE_MONTHS, PREGNANT, UNREGISTERED, OPTED_OUT)
    redis.sadd(keys.groups(), "kisumu")
    drain(services, "replies")
    return today


def sent_to(config) -> list[str]:
    return sorted(s["to"] for s in recorded(config) if s.get("broadcast_id"))


def test_the_command_sends_only_to_the_groups_babies_of_that_age(services, config, kisumu, monkeypatch):
    for name, value in (("REDIS_URL", config["REDIS_URL"]), ("REDIS_PREFIX", config["REDIS_PREFIX"]),
                        ("SMS_PROVIDER", "record"), ("SMS_RECORD_PATH", config["SMS_RECORD_PATH"])):  # fmt: skip
        monkeypatch.setenv(name, value)
    assert broadcasts.audience_size(services, ["kisumu"], MEASLES) == 1
    assert broadcasts.audience_size(services, ["kisumu"]) == 4  # the whole group, less the opt-out
    cli = CliRunner()
    made = cli.invoke(main, ["broadcast", "create", "--topic", "immunization", "--message", "1", "--group", "kisumu",
                             "--age-months", "8-10"])  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "(to those 8-10 months old)" in made.output and "0/1 handled" in made.output
    drain(services, "bulk")
    assert sent_to(config) == [NINE_MONTHS]
    (info,) = Broadcasts(services.store).recent()
    assert info["stage"] == "baby:8-10" and info["planned"] == "1" and info["sent"] == "1"
    both = cli.invoke(main, ["broadcast", "create", "--topic", "immunization", "--message", "1", "--all",
                             "--age-months", "8-10", "--pregnancy-weeks", "28-40"])  # fmt: skip
    assert both.exit_code != 0 and "not both" in both.output
    wrong = cli.invoke(main, ["broadcast", "create", "--topic", "immunization", "--message", "1", "--all",
                              "--age-months", "10-8"])  # fmt: skip
    assert wrong.exit_code != 0 and "range like 8-10" in wrong.output
    weeks = cli.invoke(main, ["broadcast", "create", "--topic", "safe-motherhood", "--message", "2", "--all",
                              "--pregnancy-weeks", "28-34"])  # fmt: skip
    assert weeks.exit_code == 0, weeks.output
    drain(services, "bulk")
    assert sent_to(config) == [NINE_MONTHS, PREGNANT]


def test_the_audience_is_chosen_when_the_broadcast_starts(services, client, config, kisumu):
    # Scheduled: its job would start it in an hour; here it is started by hand.
    bid = broadcasts.create(services, topic_id="immunization", number=1, groups=["kisumu"], created_by="test",
                            at=datetime.now(timezone.utc) + timedelta(hours=1), stage=MEASLES)  # fmt: skip
    late = "+256712000007"  # a 9-month-old registered and invited after the broadcast was created, before it starts
    Phone(client, late).text(f"BABY {add_months(kisumu, -9):%d-%m-%Y}")
    services.store.redis.sadd(services.store.keys.group("kisumu"), late)
    assert broadcasts.start(services, bid) == 1
    after = "+256712000008"  # and one after it started: not in the snapshot
    Phone(client, after).text(f"BABY {add_months(kisumu, -9):%d-%m-%Y}")
    services.store.redis.sadd(services.store.keys.group("kisumu"), after)
    broadcasts.send_batch(services, bid, 0)  # as the worker runs the batch the start queued
    assert [s["to"] for s in recorded(config) if s.get("broadcast_id") == bid] == [NINE_MONTHS, late]


def test_the_dashboard_previews_counts_and_creates_a_broadcast_to_a_stage(dash, services, kisumu):  # noqa: F811
    dash.as_role("operator")
    url = "/dashboard/api/broadcasts/preview?topic=immunization&number=1&group=kisumu"
    assert dash.get(url).json["audience"] == 4
    assert dash.get(url + "&stage=baby&range=8-10").json["audience"] == 1
    assert dash.get(url + "&stage=pregnancy&range=28-40").json["audience"] == 1
    refused = dash.get(url + "&stage=baby&range=eight")
    assert refused.status_code == 400 and "range like 8-10" in refused.json["error"]
    form = {"topic": "immunization", "number": "1", "groups": "kisumu", "stage": "baby", "stage_range": "8-10"}
    confirm = dash.post("/dashboard/broadcasts/new", form)
    assert confirm.status_code == 200 and "only families 8-10 months old" in confirm.text
    assert 'name="stage_range" value="8-10"' in confirm.text
    assert dash.post("/dashboard/broadcasts/new", {**form, "stage_range": "99"}).status_code == 400
    assert dash.post("/dashboard/broadcasts/new", {**form, "confirmed": "y"}).status_code == 302
    (info,) = Broadcasts(services.store).recent()
    assert info["stage"] == "baby:8-10" and info["planned"] == "1"
