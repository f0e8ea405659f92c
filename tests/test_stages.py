"""Registrations by stage: pregnancy weeks and trimesters, children's ages and bands (tables, no Redis);
the counts kept as families register, lose a pregnancy, stop and are forgotten; the dashboard's overview
and person page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from bot import family, stages, timed
from bot.cli import main
from bot.schedule import Registration, Series
from bot.store import Registrations
from tests.conftest import Phone
from tests.test_dashboard import dash, users  # noqa: F401  (fixtures)
from tests.test_timed import UGANDA

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("due", "weeks", "trimester"),
    [
        (TODAY + timedelta(weeks=40), 0, 0),
        (TODAY + timedelta(weeks=27, days=1), 12, 0),  # 12 weeks 6 days
        (TODAY + timedelta(weeks=27), 13, 0),
        (TODAY + timedelta(weeks=26), 14, 1),
        (TODAY + timedelta(weeks=13), 27, 1),
        (TODAY + timedelta(weeks=12), 28, 2),
        (TODAY, 40, 2),
        (TODAY - timedelta(days=3), 40, 2),  # overdue: still the third trimester
    ],
)
def test_weeks_of_pregnancy_count_from_the_due_date_as_clinics_do(due, weeks, trimester):
    assert stages.pregnancy_weeks(due, TODAY) == weeks
    assert stages.trimester(due, TODAY) == stages.TRIMESTERS[trimester]


@pytest.mark.parametrize(
    ("born", "months", "band"),
    [
        (TODAY, 0, 0),
        (TODAY - timedelta(days=41), 1, 0),
        (TODAY - timedelta(days=42), 1, 1),  # six weeks: the first vaccines
        (date(2026, 6, 3), 5, 1),
        (date(2026, 6, 2), 6, 2),
        (date(2025, 12, 3), 11, 2),
        (date(2025, 12, 2), 12, 3),
        (date(2024, 12, 2), 24, 4),
        (date(2021, 12, 3), 59, 4),
    ],
)
def test_a_childs_age_in_completed_months_and_its_band(born, months, band):
    assert stages.age_months(born, TODAY) == months
    assert stages.age_band(born, TODAY) == stages.AGE_BANDS[band]


def test_counts_per_anchor_become_todays_stages():
    anchors = {"p20270801": 2, "p20261210": 1, "b20261201": 5, "b20260401": 3, "l20261130": 1, "x1": 9, "b20250101": 0}
    found = stages.by_stage(anchors, TODAY)
    assert list(found) == list(stages.ORDER)
    assert found[stages.TRIMESTERS[0]] == 2 and found[stages.TRIMESTERS[2]] == 1
    assert found[stages.AGE_BANDS[0]] == 5 and found[stages.AGE_BANDS[2]] == 3 and found[stages.LOSS] == 1
    assert sum(found.values()) == 12


@pytest.mark.parametrize(
    ("text", "series", "target"),
    [
        ("8-10", Series.BABY, (8, 10)),
        (" 9 ", Series.BABY, (9, 9)),
        ("0-59", Series.BABY, (0, 59)),
        ("10-8", Series.BABY, None),
        ("8-60", Series.BABY, None),
        ("8 to 10", Series.BABY, None),
        ("", Series.BABY, None),
        ("28-40", Series.PREGNANCY, (28, 40)),
        ("0-42", Series.PREGNANCY, (0, 42)),
        ("30-43", Series.PREGNANCY, None),
    ],
)
def test_a_stage_to_target_is_read_from_a_range(text, series, target):
    found = stages.parse_target(text, series)
    assert (found and (found.low, found.high)) == target or found is target
    if found:
        assert stages.stored_target(found.stored) == found


def test_a_family_is_in_a_stage_when_any_of_its_registrations_is():
    fam = family.register(family.Family(), Registration(Series.BABY, date(2026, 3, 1)), TODAY)  # 9 months
    fam = family.register(fam, Registration(Series.BABY, date(2024, 1, 1)), TODAY)  # 35 months
    measles = stages.Target(Series.BABY, 8, 10)
    assert measles.holds(fam, TODAY) and not measles.holds(fam, date(2027, 3, 1))  # 12 months
    assert not stages.Target(Series.PREGNANCY, 0, 42).holds(fam, TODAY)
    assert stages.matching([("+1", fam), ("+2", family.Family())], measles, TODAY) == ["+1"]


def test_the_counts_follow_every_change_and_a_recount_agrees(services, client, config):
    svc, store = services, Registrations(services.store)
    today = timed.today_for(svc, UGANDA)
    mother, other, third = Phone(client, UGANDA), Phone(client, "+256712345679"), Phone(client, "+256712345670")
    mother.text(f"DUE {today + timedelta(weeks=10):%d-%m-%Y}")
    other.text(f"BABY {today - timedelta(days=200):%d-%m-%Y}")
    other.text(f"BABY {today - timedelta(days=10):%d-%m-%Y}")
    third.text(f"BABY {today - timedelta(days=10):%d-%m-%Y}")
    now = stages.by_stage(store.stage_counts(), today)
    assert (now[stages.TRIMESTERS[2]], now[stages.AGE_BANDS[0]], now[stages.AGE_BANDS[2]]) == (1, 2, 1)
    mother.text(f"BABY {today:%d-%m-%Y}")  # the birth: the pregnancy hands over
    other.text("LOSS")
    third.text("STOP")
    timed.send_batch(svc, [UGANDA, "+256712345679", "+256712345670"], 0)  # a worker sees the STOP
    now = stages.by_stage(store.stage_counts(), today)
    assert (now[stages.TRIMESTERS[2]], now[stages.AGE_BANDS[0]], now[stages.LOSS], sum(now.values())) == (0, 1, 1, 2)
    counted = store.stage_counts()
    assert store.recount() == 2 and store.stage_counts() == counted
    svc.store.redis.delete(svc.store.keys.family_stages())  # lost (an import over existing families, a repair)
    env = {"REDIS_URL": config["REDIS_URL"], "REDIS_PREFIX": config["REDIS_PREFIX"]}
    recounted = CliRunner().invoke(main, ["schedule", "recount"], env=env)
    assert recounted.exit_code == 0 and "2 families counted by stage" in recounted.output, recounted.output
    assert store.stage_counts() == counted
    mother.text("FORGET")
    mother.text("YES")
    assert sum(stages.by_stage(store.stage_counts(), today).values()) == 1


def test_the_overview_shows_stages_and_the_person_page_what_comes_next(dash, services, client, app):  # noqa: F811
    from bot.dashboard import privacy
    from bot.store import PersonRefs

    today = timed.today_for(services, UGANDA)
    Phone(client, UGANDA).text(f"BABY {today - timedelta(days=250):%d-%m-%Y}")
    dash.as_role("viewer")
    page = dash.get("/dashboard/").text
    assert "by stage today" in page and "Baby, 6-12 months</th><td class=\"num\">1<" in page
    ref = privacy.ref_for(app.secret_key, UGANDA)
    PersonRefs(services.store).remember({ref: UGANDA})
    viewer = dash.get(f"/dashboard/people/{ref}").text
    english = services.catalog.language("en")
    assert "Timed messages, next" in viewer and "vaccines_9_months" in viewer
    assert UGANDA not in viewer and english.texts["reminder_vaccines_9_months"][:30] not in viewer
    dash.post("/dashboard/logout")
    dash.as_role("operator")
    operator = dash.get(f"/dashboard/people/{ref}").text
    assert english.texts["reminder_vaccines_9_months"][:30] in operator and UGANDA not in operator
