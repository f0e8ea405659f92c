"""One inbound message, end to end: load, step the menu, commit, and say what to send back.

Every channel (Twilio's webhook, `factsbot chat`, later USSD and Africa's Talking) calls
`handle`; only the edges differ.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from bot import menu, phones
from bot.content import Catalog
from bot.store import LogEntry, Store

# A racing message from the same number wins at most this many times in a row.
MAX_ATTEMPTS = 20
# How much of an inbound text is kept in the log: Twilio's own ceiling.
LOG_TEXT_MAX = 1600


@dataclass(frozen=True)
class Inbound:
    phone: str  # E.164
    text: str
    channel: str  # "sms", "chat", …
    message_id: str = ""  # the provider's id, for dedupe


@dataclass(frozen=True)
class Reply:
    parts: tuple[str, ...]
    duplicate: bool = False
    event: str = ""


class Busy(Exception):
    """The same number kept racing itself; the caller answers with an apology."""


def clean(text: str) -> str:
    """Inbound text as the engine and the log should see it: no NULs or control characters."""
    text = text[:LOG_TEXT_MAX]
    return "".join(c if c in "\n\t" or unicodedata.category(c)[0] != "C" else " " for c in text).strip()


def handle(store: Store, catalog: Catalog, inbound: Inbound, *, limits: menu.Limits, context: menu.Context) -> Reply:
    """Run one inbound message through the menu exactly once, however often it is delivered."""
    text = clean(inbound.text)
    for _ in range(MAX_ATTEMPTS):
        loaded = store.load(inbound.phone, inbound.channel, inbound.message_id)
        if loaded.duplicate is not None:
            return Reply(loaded.duplicate, duplicate=True)
        profile = loaded.profile
        if not profile.country:
            profile = replace(profile, country=phones.country(inbound.phone))
        step = menu.step(loaded.session, profile, text, catalog, limits, context)
        log = [LogEntry("in", inbound.channel, inbound.phone, text, step.event.value, step.topic, step.message,
                        inbound.message_id)]  # fmt: skip
        if step.parts:  # one entry per reply, however many SMS it took
            log.append(LogEntry("out", inbound.channel, inbound.phone, "\n".join(step.parts), step.event.value,
                                step.topic, step.message, parts=str(len(step.parts))))  # fmt: skip
        status, parts = store.commit(inbound.phone, loaded, step.session, step.profile, step.parts, log,
                                     channel=inbound.channel, message_id=inbound.message_id)  # fmt: skip
        if status == "ok":
            return Reply(parts, event=step.event.value)
        if status == "duplicate":
            return Reply(parts, duplicate=True)
    raise Busy(inbound.phone)
