"""The conversation's vocabulary: states, sessions, profiles, what a person asked for, what a turn did.

Plain data shared by every channel, the engine and the store; no logic beyond (de)serialising.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class State(str, Enum):
    NEW = "new"
    MENU = "menu"
    LANGUAGE = "language"  # showing the language list
    MESSAGE = "message"  # showing a key message's short text
    DETAIL = "detail"  # showing its detail


class Event(str, Enum):
    """What a turn did, for the message log and the figures."""

    WELCOME = "welcome"
    MENU = "menu"
    MESSAGE = "message"
    DETAIL = "detail"
    CONTINUED = "continued"
    TOPIC_END = "topic_end"
    HELP = "help"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    LANGUAGE = "language"
    SEND_SMS = "send_sms"
    JOINED = "joined"
    LEFT = "left"
    INVITE_ACCEPTED = "invite_accepted"
    REGISTERED = "registered"  # BABY / PREGNANT / DUE answered: registered for timed messages, or told how
    LOSS = "loss"  # LOSS: pregnancy and baby messages stopped, the support series started
    FORGET = "forget"  # FORGET asked (waits for YES), or done
    FIELDWORK = "fieldwork"
    SILENT = "silent"
    HINT = "hint"
    URGENT = "urgent"  # a text that describes an emergency got the urgent answer
    JOIN_CONFIRM = "join_confirm"  # a private topic's subscription waits for YES
    DELIVERY = "delivery"  # tips by phone call (VOICE) or by SMS again
    QUESTION = "question"  # a family's own question: the closest key messages, and the inbox


class Do(str, Enum):
    """What a person asked for, whatever the channel and language."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    LANGUAGE = "language"  # value: a language code, or "" for the list
    MENU = "menu"
    MORE = "more"
    BACK = "back"
    NUMBER = "number"  # value: the number
    TOPIC = "topic"  # value: topic id
    NEXT_TIP = "next_tip"  # skip to the next key message
    WHY = "why"  # the current key message's detail, even while the rest of a screen waits
    SHOW = "show"  # show the current place again
    SEND_SMS = "send_sms"  # send the current key message by SMS
    JOIN = "join"  # value: topic id ("" for the current topic, "?" for a name that matched none)
    LEAVE = "leave"  # value: topic id
    ACCEPT_INVITE = "accept_invite"  # YES to a field worker's invitation
    URGENT = "urgent"  # the text describes an emergency
    SYMPTOM = "symptom"  # value: a symptom name ("fever", "breathing")
    CONFIRM_JOIN = "confirm_join"  # YES to subscribing to the private topic in `Session.join_pending`
    DECLINE_JOIN = "decline_join"  # NO to it
    DELIVERY = "delivery"  # value: "voice" (tips by phone call) or "sms"
    JOIN_CALL = "join_call"  # value: topic id: its tips by phone call (a key on the voice line)
    QUESTION = "question"  # value: the text, a question in the family's own words
    EMPTY = "empty"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Action:
    do: Do
    value: str | int = ""


@dataclass(frozen=True)
class Session:
    """Where a person is in the menu; forgotten after an idle time."""

    state: State = State.NEW
    page: int = 0
    topic: str = ""
    index: int = 0  # 0-based key message within the topic
    pending: str = ""  # text that did not fit and waits behind MORE
    join_pending: str = ""  # a private topic whose subscription waits for YES (asked in the last reply)

    @property
    def reading(self) -> bool:
        """On a key message or its detail."""
        return self.state in (State.MESSAGE, State.DETAIL)

    def to_dict(self) -> dict:
        return {
            "state": self.state.value,
            "page": self.page,
            "topic": self.topic,
            "index": self.index,
            "pending": self.pending,
            "join_pending": self.join_pending,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> Session:
        if not data:
            return cls()
        try:
            return cls(State(data["state"]), int(data["page"]), str(data["topic"]), int(data["index"]),
                       str(data["pending"]), str(data.get("join_pending", "")))  # fmt: skip
        except (KeyError, ValueError, TypeError):
            return cls()  # a session from an older release: start again rather than fail


@dataclass(frozen=True)
class Profile:
    """What is kept about a person without expiry."""

    lang: str = ""
    country: str = ""
    opted_out: bool = False
    subscriptions: tuple[str, ...] = ()  # topic ids with a subscription running
    groups: tuple[str, ...] = ()  # field workers' groups this person joined (said YES)
    invite: str = ""  # a group this person was invited to and has not answered yet
    delivery: str = ""  # how tips reach them: "voice" (a phone call), else SMS


@dataclass(frozen=True)
class Context:
    """What the engine may know beyond the text: program texts, first-contact languages, where malaria is."""

    program: str = "Facts for Life"
    contact: str = ""  # SUPPORT_CONTACT; empty: each language's own `support_contact` text
    default_lang: str = "en"
    country_languages: tuple[tuple[str, str], ...] = ()  # (ISO country, language) for first contacts
    drip_days: int = 7
    malaria_countries: frozenset[str] = frozenset()  # ISO codes where FEVER leads to the malaria message
    voice_calls: bool = False  # VOICE_ENABLED: tips can come as phone calls
    helpdesk: bool = False  # HELPDESK: a health worker answers questions from the dashboard's inbox

    def first_language(self, country: str) -> str:
        return dict(self.country_languages).get(country, self.default_lang)


@dataclass(frozen=True)
class Answer:
    """The engine's answer to one input: where the person is now, and what to send them."""

    session: Session
    profile: Profile
    parts: tuple[str, ...]
    event: Event
    topic: str = ""  # for the log
    message: str = ""
