"""One inbound message, end to end: load, decide, commit, and say what to send back.

Every channel runs `exchange`: it loads the person and the channel's state in one round
trip, lets the channel decide (a pure function around the menu engine), and commits
state, profile and log in one more, retrying when a message from the same number won
a race. The SMS decision (Twilio, Africa's Talking, `factsbot chat`) is bot/sms.py; USSD's is
in the Africa's Talking blueprint.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot import phones
from bot.menu import Answer, Profile
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
    medium: str = "sms"  # "sms" or "whatsapp": how the person writes (and is answered), whatever the log calls it


@dataclass(frozen=True)
class Reply:
    parts: tuple[str, ...]
    duplicate: bool = False
    event: str = ""
    answer: Answer | None = None  # what the engine decided (None for a duplicate)
    screen: str = ""  # USSD: the whole screen, CON/END included


@dataclass(frozen=True)
class Decision:
    """A channel's decision for one inbound message: the engine's answer and what to write."""

    answer: Answer
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
    if text.isprintable():  # no character of category C (nor a line break): nothing to replace, the usual case
        return text.strip()
    return "".join(c if c in "\n\t" or unicodedata.category(c)[0] != "C" else " " for c in text).strip()


def exchange(
    store: Store,
    inbound: Inbound,
    *,
    state_key: str,
    decide: Callable[[Loaded, Profile], Decision],
    extra_keys: Sequence[str] = (),
    marks: Mapping[str, str] | None = None,
) -> Reply:
    """Run one inbound message exactly once, however often it is delivered or raced.

    `marks` are profile fields the message sets whatever is decided (the channel it came by).
    """
    dedupe_key = store.keys.dedupe(inbound.channel, inbound.message_id) if inbound.message_id else ""
    for _ in range(MAX_ATTEMPTS):
        loaded = store.load(inbound.phone, state_key, dedupe_key, extra_keys)
        if loaded.duplicate is not None:
            return Reply(loaded.duplicate, duplicate=True)
        profile = loaded.profile
        if not profile.country:
            profile = replace(profile, country=phones.country(inbound.phone))
        decision = decide(loaded, profile)
        answer = decision.answer
        log = []
        if decision.log:
            log.append(LogEntry("in", inbound.channel, inbound.phone, decision.logged_input, answer.event.value,
                                answer.topic, answer.message, inbound.message_id))  # fmt: skip
        if decision.log and not inbound.queued_reply and (answer.parts or decision.screen):  # one per reply
            sent = decision.screen or "\n".join(answer.parts)
            log.append(LogEntry("out", inbound.channel, inbound.phone, sent, answer.event.value, answer.topic,
                                answer.message, parts=str(len(answer.parts))))  # fmt: skip
        status, parts = store.commit(inbound.phone, loaded, answer.profile, decision.writes, log,
                                     dedupe_key=dedupe_key, parts=answer.parts, marks=marks)  # fmt: skip
        if status == "ok":
            for effect in decision.effects:
                effect()
            return Reply(parts, event=answer.event.value, answer=answer, screen=decision.screen)
        if status == "duplicate":
            return Reply(parts, duplicate=True)
    raise Busy(inbound.phone)
