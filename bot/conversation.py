"""One inbound message, end to end: load, decide, commit, and say what to send back.

Every channel runs `exchange`: it loads the person and the channel's state in one round
trip, lets the channel decide (a pure function around the menu engine), and commits
state, profile and log in one more, retrying when a message from the same number won
a race. `handle` is the SMS decision (Twilio, Africa's Talking, `factsbot chat`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot import fieldwork as fieldwork_
from bot import menu, phones
from bot.content import Catalog
from bot.store import Loaded, LogEntry, Store, Write

# A racing message from the same number wins at most this many times in a row.
MAX_ATTEMPTS = 20
# How much of an inbound text is kept in the log: Twilio's own ceiling.
LOG_TEXT_MAX = 1600


@dataclass(frozen=True)
class Inbound:
    phone: str  # E.164
    text: str
    channel: str  # "sms", "chat", "ussd"
    message_id: str = ""  # the provider's id, for dedupe
    queued_reply: bool = False  # the reply goes out through the queue, which logs each SMS it sends


@dataclass(frozen=True)
class Reply:
    parts: tuple[str, ...]
    duplicate: bool = False
    event: str = ""
    step: menu.Step | None = None  # what the engine decided (None for a duplicate)
    screen: str = ""  # USSD: the whole screen, CON/END included


@dataclass(frozen=True)
class Decision:
    """A channel's decision for one inbound message: the engine's step and what to write."""

    step: menu.Step
    writes: Sequence[Write]
    logged_input: str  # the inbound text as the log should show it
    log: bool = True  # False when nothing new happened (a gateway repeating itself)
    screen: str = ""  # USSD: what is shown, logged instead of the parts
    effects: Sequence[Callable[[], None]] = ()  # run once the commit succeeded (never for a duplicate)


class Busy(Exception):
    """The same number kept racing itself; the caller answers with an apology."""


def clean(text: str) -> str:
    """Inbound text as the engine and the log should see it: no NULs or control characters."""
    text = text[:LOG_TEXT_MAX]
    return "".join(c if c in "\n\t" or unicodedata.category(c)[0] != "C" else " " for c in text).strip()


def exchange(
    store: Store,
    inbound: Inbound,
    *,
    state_key: str,
    decide: Callable[[Loaded, menu.Profile], Decision],
    extra_keys: Sequence[str] = (),
) -> Reply:
    """Run one inbound message exactly once, however often it is delivered or raced."""
    dedupe_key = store.keys.dedupe(inbound.channel, inbound.message_id) if inbound.message_id else ""
    for _ in range(MAX_ATTEMPTS):
        loaded = store.load(inbound.phone, state_key, dedupe_key, extra_keys)
        if loaded.duplicate is not None:
            return Reply(loaded.duplicate, duplicate=True)
        profile = loaded.profile
        if not profile.country:
            profile = replace(profile, country=phones.country(inbound.phone))
        decision = decide(loaded, profile)
        step = decision.step
        log = []
        if decision.log:
            log.append(LogEntry("in", inbound.channel, inbound.phone, decision.logged_input, step.event.value,
                                step.topic, step.message, inbound.message_id))  # fmt: skip
        if decision.log and not inbound.queued_reply and (step.parts or decision.screen):  # one per reply
            log.append(LogEntry("out", inbound.channel, inbound.phone, decision.screen or "\n".join(step.parts),
                                step.event.value, step.topic, step.message, parts=str(len(step.parts))))  # fmt: skip
        status, parts = store.commit(inbound.phone, loaded, step.profile, decision.writes, log,
                                     dedupe_key=dedupe_key, parts=step.parts)  # fmt: skip
        if status == "ok":
            for effect in decision.effects:
                effect()
            return Reply(parts, event=step.event.value, step=step, screen=decision.screen)
        if status == "duplicate":
            return Reply(parts, duplicate=True)
    raise Busy(inbound.phone)


def handle(
    store: Store,
    catalog: Catalog,
    inbound: Inbound,
    *,
    limits: menu.Limits,
    context: menu.Context,
    fieldwork: Callable[[dict, str, dict | None, menu.Profile], fieldwork_.Outcome | None] | None = None,
) -> Reply:
    """An inbound SMS: one step of the menu for this number (or a field worker's command)."""
    text = clean(inbound.text)
    keys = store.keys
    state_key = keys.session(inbound.phone)
    invite_key, worker_key, pending_key = (keys.invite(inbound.phone), keys.fieldworker(inbound.phone),
                                           keys.pending_broadcast(inbound.phone))  # fmt: skip

    def decide(loaded: Loaded, profile: menu.Profile) -> Decision:
        session = menu.Session.from_dict(loaded.state)
        worker = loaded.extras.get(worker_key)
        outcome = fieldwork(worker, text, loaded.extras.get(pending_key), profile) if worker and fieldwork else None
        if outcome is not None:
            lang = catalog.language(profile.lang or context.default_lang)
            parts = menu.cut_reply(outcome.reply, lang.code, limits, lang.word("more")).parts
            step = menu.Step(session, profile, parts, menu.Event.FIELDWORK)
            return Decision(step, outcome.writes, outcome.logged or text, effects=outcome.effects)
        invite = loaded.extras.get(invite_key)
        profile = replace(profile, invite=str(invite.get("group", ""))) if invite else profile
        step = menu.step(session, profile, text, catalog, limits, context)
        state = None if step.session == menu.Session() else step.session.to_dict()
        writes = [Write(state_key, state, store.session_ttl)]
        if invite and not step.profile.invite:
            writes.append(Write(invite_key, None))  # answered
        return Decision(step, writes, text)

    return exchange(store, inbound, state_key=state_key, decide=decide,
                    extra_keys=[invite_key, worker_key, pending_key])  # fmt: skip
