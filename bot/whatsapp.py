"""WhatsApp as a channel: Twilio's addresses, what a tapped button says, and how a message we start goes. Pure.

A person's channel is the one they last wrote on (bot/store/channels.py). To a WhatsApp user
we send free text while WhatsApp's 24-hour customer-service window is open (since their
last message), an approved template once it has closed, and SMS when no template is
approved for their language or WhatsApp sending is not configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

WHATSAPP = "whatsapp"
SMS = "sms"
PREFIX = "whatsapp:"
# WhatsApp's customer-service window, less a margin: a send queued at 23:59 may leave after it closes.
WINDOW_SECONDS = 24 * 3600
WINDOW_MARGIN = 15 * 60


class Route(str, Enum):
    SMS = "sms"
    TEXT = "whatsapp"  # free text inside the window
    TEMPLATE = "whatsapp_template"  # an approved template outside it


@dataclass(frozen=True)
class Sender:
    """What one outbound message needs to know to choose its route."""

    channel: str  # the channel the person last wrote on
    last_in: float  # when they last wrote on WhatsApp (0: never)
    enabled: bool  # TWILIO_WHATSAPP_FROM (or a Messaging Service) is set
    has_template: bool  # an approved template exists for this message in their language


def is_address(value: str) -> bool:
    return value.strip().lower().startswith(PREFIX)


def number(value: str) -> str:
    """`whatsapp:+254700000001` -> `+254700000001` (anything else as given)."""
    value = value.strip()
    return value[len(PREFIX) :] if value.lower().startswith(PREFIX) else value


def address(phone: str) -> str:
    return f"{PREFIX}{phone}"


def text_of(form: Mapping[str, str]) -> str:
    """What a WhatsApp message says: a tapped quick-reply button's payload (our own word), else its body."""
    return (form.get("ButtonPayload") or form.get("ButtonText") or form.get("Body") or "").strip()


def window_open(last_in: float, now: float) -> bool:
    return last_in > 0 and now - last_in < WINDOW_SECONDS - WINDOW_MARGIN


def route(sender: Sender, now: float) -> Route:
    """How a message we start reaches this person."""
    if sender.channel != WHATSAPP or not sender.enabled:
        return Route.SMS
    if window_open(sender.last_in, now):
        return Route.TEXT
    return Route.TEMPLATE if sender.has_template else Route.SMS


# What each kind of message we start is sent as outside the window (bot/content/whatsapp.py NAMES).
TEMPLATE_FOR_KIND = {"subscription": "tip", "broadcast": "tip", "key_message": "tip"}


# Sent as free text inside the window and by SMS outside it, never as a template: an answer
# from a health worker is their own words, which no approved template holds.
FREE_TEXT_ONLY = frozenset({"answer", "reply"})


def template_name(kind: str) -> str:
    return "" if kind in FREE_TEXT_ONLY else TEMPLATE_FOR_KIND.get(kind, "message")
