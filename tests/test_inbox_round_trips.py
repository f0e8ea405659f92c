"""The inbox page reads its questions' askers (profiles, recent conversations) in a constant number of
Redis round trips, not a few per question: counted on the wire, in redis-py's connection."""

from __future__ import annotations

import pytest
import redis.connection

from bot.dashboard.inbox import HISTORY
from bot.store import LogQuery
from tests.conftest import Phone
from tests.test_dashboard import Dashboard, users  # noqa: F401 (the users fixture)
from tests.test_inbox import QUESTION, inbox

MANY = 30  # questions on the page (the page shows up to bot.dashboard.inbox.SHOWN)
BOUND = 20  # round trips for the whole page (login session, figures, questions, askers, canned)


@pytest.fixture
def config(config):
    return {**config, "HELPDESK": True, "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886"}


@pytest.fixture
def wire(monkeypatch) -> list[int]:
    """Round trips sent from this process: one per packed send (a pipeline sends once)."""
    sends = [0]
    original = redis.connection.AbstractConnection.send_packed_command

    def counted(conn, command, check_health=True):
        sends[0] += 1
        return original(conn, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    return sends


def ask(client, n: int) -> str:
    number = f"+2567123{n:05d}"
    family = Phone(client, number)
    family.text("hi")  # a conversation before the question: the page shows it
    family.text(f"{QUESTION} {n}")
    return number


def page_cost(dash: Dashboard, wire: list[int]) -> tuple[int, str]:
    before = wire[0]
    page = dash.get("/dashboard/inbox")
    assert page.status_code == 200
    return wire[0] - before, page.text


def test_the_inbox_page_costs_the_same_round_trips_for_one_question_or_many(client, services, users, wire):  # noqa: F811
    dash = Dashboard(client).as_role("operator")
    first = ask(client, 0)
    dash.get("/dashboard/inbox")  # warm: anything read once per process
    one, page = page_cost(dash, wire)
    assert f"{QUESTION} 0" in page
    numbers = [first] + [ask(client, n) for n in range(1, MANY)]
    many, page = page_cost(dash, wire)
    assert len(inbox(services).open()) == MANY and all(f"{QUESTION} {n}<" in page for n in range(MANY))
    # Every asker's conversation is there (their "hi" and its menu), so each had history to read.
    assert all(len(LogQuery(services.store).person(p, HISTORY)) == 4 for p in numbers)
    assert page.count('class="bubble from-person"') == 2 * MANY
    assert many == one and many <= BOUND, (one, many)
