"""An inbound SMS end to end (bot/sms.py): the menu or a field worker's command, over a real Redis."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot import services, sms
from bot.conversation import Inbound
from bot.menu import Event
from tests.conftest import Phone
from tests.storeview import person_log

PHONE = "+256712345678"


@pytest.mark.parametrize("body", ["²", "①", "LANG ²", "JOIN ²", "1²"])
def test_unicode_digits_over_the_webhook_get_a_reply(client, body):
    """`str.isdigit()` is true for ² and ①, which int() refuses: each of these answered 500."""
    phone = Phone(client, PHONE)
    phone.text("hi")
    assert phone.text(body), "a reply, not silence and not a 500"


def test_handle_answers_and_remembers_the_place(services):
    first = sms.handle(services, Inbound(PHONE, "10", "sms", "SMfirst"))
    assert first.answer.event is Event.MESSAGE and first.answer.topic == "malaria"
    more = sms.handle(services, Inbound(PHONE, "MORE", "sms", "SMsecond"))
    assert more.answer.event is Event.DETAIL and more.answer.message == first.answer.message


def test_a_redelivered_message_is_answered_once(services):
    first = sms.handle(services, Inbound(PHONE, "10", "sms", "SMsame"))
    again = sms.handle(services, Inbound(PHONE, "10", "sms", "SMsame"))
    assert again.duplicate and again.parts == first.parts
    logged = [e for _, e in person_log(services.store, PHONE) if e["direction"] == "in"]
    assert len(logged) == 1


def test_the_composition_root_imports_no_feature():
    """services.py composes; when it also ran SMS it pulled every feature into an import cycle."""
    tree = ast.parse(Path(services.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {f"bot.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "bot"
                 for a in n.names}  # fmt: skip
    features = {"bot.sms", "bot.fieldwork", "bot.broadcasts", "bot.jobs", "bot.conversation", "bot.subscriptions",
                "bot.ussd", "bot.channels"}  # fmt: skip
    assert not imported & features


def test_a_danger_sign_is_answered_and_logged_as_urgent(services, client):
    phone = Phone(client, "+254712345678")  # Kenya: Kiswahili, emergency 999 / 112
    reply = " ".join(phone.text("Mtoto ana degedege"))
    assert "999 / 112" in reply
    events = [e["event"] for _, e in person_log(services.store, "+254712345678")]
    assert events == ["urgent", "urgent"], "the message in and the answer out"


def _imports(path: Path, package: str, modules: set[str]) -> set[str]:
    """The bot modules `path` imports, at import or call time (TYPE_CHECKING blocks are not imports)."""
    found: set[str] = set()

    def visit(nodes) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom) and node.module:
                subs = {f"{node.module}.{a.name}" for a in node.names} & modules
                found.update(subs or ({node.module} & modules))
            visit(ast.iter_child_nodes(node))

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found - {package}


def test_no_import_cycles_in_bot():
    """The SMS orchestration in the composition root once tied every feature into one cycle; none may return."""
    root = Path(services.__file__).parent
    names = {p: ".".join(("bot", *p.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
             for p in root.rglob("*.py")}  # fmt: skip
    modules = set(names.values())
    graph = {name: _imports(path, name, modules) for path, name in names.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), list(graph[start])
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(graph[current])
        return False

    assert [m for m in sorted(modules) if reaches(m, m)] == []


def test_the_profile_follows_each_message_though_only_changed_fields_are_written(services):
    """The commit writes only fields that differ from what it read; the stored profile must still be whole."""
    redis, key = services.store.redis, services.store.keys.profile(PHONE)
    sms.handle(services, Inbound(PHONE, "hi", "sms", "SMp1"))
    first = services.store.profile_fields(PHONE)
    assert {k: first[k] for k in ("lang", "country", "opted_out", "subs", "groups", "invalid", "delivery", "channel")} \
        == {"lang": "en", "country": "UG", "opted_out": "0", "subs": "", "groups": "", "invalid": "0", "delivery": "",
            "channel": "sms"}  # fmt: skip
    redis.hset(key, mapping={"invalid": "1", "channel": "whatsapp"})  # a gateway's report, a WhatsApp message
    sms.handle(services, Inbound(PHONE, "MENU", "sms", "SMp2"))
    again = services.store.profile_fields(PHONE)
    assert (again["invalid"], again["channel"]) == ("0", "sms"), "they reached us by SMS from this number just now"
    assert again["first_seen"] == first["first_seen"] and float(again["last_seen"]) >= float(first["last_seen"])
    sms.handle(services, Inbound(PHONE, "STOP", "sms", "SMp3"))
    assert services.store.profile_fields(PHONE)["opted_out"] == "1"
    sms.handle(services, Inbound(PHONE, "START", "sms", "SMp4"))
    assert services.store.profile_fields(PHONE)["opted_out"] == "0"
