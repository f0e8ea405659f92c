"""Field workers over SMS: invitations that families must accept, previewed broadcasts, limits."""

from __future__ import annotations

import pytest

from bot import broadcasts, content, fieldwork
from bot.settings import ROOT
from bot.store import Broadcasts, FieldWorkers
from tests.conftest import Phone, drain, recorded
from tests.storeview import person_log

WORKER = "+256700000002"
FAMILY = "+256711111111"


@pytest.fixture
def worker(services, client):
    FieldWorkers(services.store).add(WORKER, "Amina", ["kisumu", "siaya"])
    return Phone(client, WORKER)


def run(services):
    drain(services)


def test_register_invites_and_only_yes_joins(services, client, worker, config):
    reply = worker.text(f"REG {FAMILY} KISUMU")
    logged = [e["text"] for _, e in person_log(services.store, WORKER) if e["direction"] == "in"]
    assert logged == ["REG +256 7•• ••• 111 KISUMU"], "the family's number is masked in the log"
    assert "Invited +256 7" in reply[0] and "KISUMU" in reply[0] and FAMILY not in reply[0]
    run(services)
    (welcome,) = recorded(config)
    assert welcome["to"] == FAMILY and "Reply YES" in welcome["body"] and "Amina" in welcome["body"]
    assert not services.store.redis.sismember(services.store.keys.group("kisumu"), FAMILY)
    family = Phone(client, FAMILY)
    accepted = family.text("yes")
    assert "KISUMU" in accepted[0]
    assert services.store.redis.sismember(services.store.keys.group("kisumu"), FAMILY)
    assert services.store.profile_fields(FAMILY)["groups"] == "kisumu"
    assert services.store.redis.get(services.store.keys.invite(FAMILY)) is None


def test_the_invitation_uses_the_language_the_family_chose(services, client, worker, config):
    family = Phone(client, FAMILY)  # Uganda: English by country
    family.text("LANG FR")
    worker.text(f"REG {FAMILY} KISUMU")
    run(services)
    (welcome,) = [r for r in recorded(config) if r.get("to") == FAMILY and "Amina" in r["body"]]
    french = services.catalog.language("fr").texts["fw_welcome"].split("{")[0]
    assert welcome["body"].startswith(french) and "Reply YES" not in welcome["body"]


def test_a_family_can_refuse_an_invitation(services, client, worker):
    worker.text(f"REG {FAMILY} KISUMU")
    family = Phone(client, FAMILY)
    assert "unsubscribed" in family.text("STOP")[0]
    assert not services.store.redis.sismember(services.store.keys.group("kisumu"), FAMILY)


def test_only_their_own_groups(worker):
    assert "not one of your groups" in worker.text(f"REG {FAMILY} NAIROBI")[0]
    assert "not one of your groups" in worker.text("BC MALARIA 1 NAIROBI")[0]


def test_broadcast_preview_then_yes(services, worker, config):
    services.store.redis.sadd(services.store.keys.group("kisumu"), *[f"+2567220000{n:02d}" for n in range(12)])
    preview = worker.text("BC MALARIA 1 KISUMU")[0]
    assert "to 12 people in KISUMU" in preview and "Reply YES" in preview and "1 SMS each" in preview
    assert "Sending now" in worker.text("YES")[0]
    run(services)
    assert len([s for s in recorded(config) if s.get("broadcast_id")]) == 12
    status = worker.text("BC STATUS")[0]
    assert "12 sent" in status and "done" in status


@pytest.mark.parametrize("lang, yes, no", [("sw", "NDIYO", "HAPANA"), ("fr", "OUI", "NON"), ("hi", "हाँ", "नहीं")])
def test_a_field_worker_answers_a_preview_in_their_language(services, worker, lang, yes, no):
    worker.text(f"LANG {lang.upper()}")
    worker.text("BC MALARIA 1 ALL")
    dropped = services.catalog.language(lang).texts["fw_dropped"]
    assert worker.text(no) == [dropped] and Broadcasts(services.store).recent() == []
    worker.text("BC MALARIA 1 ALL")
    worker.text(yes)
    assert len(Broadcasts(services.store).recent()) == 1


def test_no_drops_the_preview(services, worker):
    worker.text("BC MALARIA 1 ALL")
    assert worker.text("NO") == ["Not sent."]
    assert Broadcasts(services.store).recent() == []
    # Without a preview waiting, YES is ordinary menu input.
    assert worker.text("YES") and Broadcasts(services.store).recent() == []


def test_daily_limit(make_app):
    app = make_app(FIELDWORKER_DAILY_BROADCASTS=1)
    services = app.extensions["factsbot"]
    FieldWorkers(services.store).add(WORKER, "Amina", ["kisumu", "siaya"])
    worker = Phone(app.test_client(), WORKER)
    worker.text("BC HYGIENE 1 KISUMU")
    assert "Sending now" in worker.text("YES")[0]
    worker.text("BC HYGIENE 2 KISUMU")
    assert "most allowed" in worker.text("YES")[0]
    assert len(Broadcasts(services.store).recent()) == 1


def test_commands_are_invisible_to_everyone_else(services, client):
    stranger = Phone(client, "+256799999999")
    stranger.text("hi")
    for text in (f"REG {FAMILY} KISUMU", "BC MALARIA 1 KISUMU", "BC STATUS"):
        reply = " ".join(stranger.text(text))
        assert "REG" not in reply and "BC " not in reply and "field" not in reply.lower()
    assert Broadcasts(services.store).recent() == []


def test_malformed_commands_get_usage(worker):
    # ² and ① pass str.isdigit() but not int(): these once answered 500.
    for text in ("REG", "REG 123 KISUMU", "BC", "BC MALARIA KISUMU", "BC NOSUCHTOPIC 1 KISUMU", "BC MALARIA ² KISUMU",
                 "BC MALARIA ① ALL"):  # fmt: skip
        assert "REG +2547" in worker.text(text)[0]


def test_bad_message_number(worker):
    assert "1 to 4" in worker.text("BC MALARIA 9 KISUMU")[0]


def test_field_workers_still_use_the_menu(worker):
    assert "Mosquitoes" in worker.text("malaria")[0]


def test_a_broadcast_to_an_empty_group_finishes_with_nothing_planned(services, worker):
    worker.text("BC MALARIA 2 SIAYA")
    worker.text("YES")
    info = Broadcasts(services.store).recent()[0]
    assert info["status"] == "done" and info["created_by"] == WORKER
    assert broadcasts.figures(info)["planned"] == 0


# -- the pure decision: no app, no Redis -----------------------------------------------------------

EN = content.load(ROOT / "messages").language("en")
AMINA = {"name": "Amina", "groups": ["kisumu", "siaya"]}


NO_FACTS = fieldwork.Facts()


def asked(text: str, facts: fieldwork.Facts = NO_FACTS, pending: dict | None = None, limit: int = 5):
    request = fieldwork.read_command(text, EN, pending is not None, "UG")
    return fieldwork.Asked(request, AMINA, pending, WORKER, EN, facts, limit)


def test_a_preview_counts_the_audience_gathered_before_the_decision():
    result = fieldwork.answer_command(asked("BC MALARIA 1 ALL", fieldwork.Facts(audience=1234)))
    assert "1,234 people in KISUMU, SIAYA" in result.reply
    assert result.preview == {"topic": "malaria", "number": 1, "groups": ["kisumu", "siaya"]}
    assert result.writes("k")[0].ttl == fieldwork.PENDING_SECONDS


def test_yes_after_the_daily_limit_drops_the_preview_and_sends_nothing():
    pending = {"topic": "malaria", "number": 1, "groups": ["kisumu"]}
    refused = fieldwork.answer_command(asked("YES", fieldwork.Facts(day="2026-12-01", sent_today=2), pending, limit=2))
    assert "most allowed" in refused.reply and refused.effects == () and refused.drop_preview
    sent = fieldwork.answer_command(asked("YES", fieldwork.Facts(day="2026-12-01", sent_today=1), pending, limit=2))
    assert sent.effects == (fieldwork.SendBroadcast("malaria", 1, ("kisumu",), "2026-12-01"),)


@pytest.mark.parametrize(
    "text, command",
    [("REG +256711111111 KISUMU", fieldwork.Command.REGISTER), ("BC MALARIA 1 KISUMU", fieldwork.Command.BROADCAST),
     ("bc status", fieldwork.Command.STATUS), ("BC MALARIA ² KISUMU", fieldwork.Command.USAGE),
     ("REG 12 KISUMU", fieldwork.Command.USAGE), ("MALARIA", None)],
)  # fmt: skip
def test_reading_commands(text, command):
    request = fieldwork.read_command(text, EN, False, "UG")
    assert (request.command if request else None) == command


def test_a_preview_of_a_private_topic_warns_the_sender():
    warning = EN.texts["fw_discreet_warning"]
    assert fieldwork.answer_command(asked("BC HIV 1 KISUMU")).reply.endswith(warning)
    assert fieldwork.answer_command(asked("BC SAFE MOTHERHOOD 8 KISUMU")).reply.endswith(warning)  # one private tip
    assert warning not in fieldwork.answer_command(asked("BC SAFE MOTHERHOOD 1 KISUMU")).reply
