"""The menu engine: (session, profile, inbound text, catalog) -> (new session, profile, reply).

Pure: no Flask, Redis or provider inside, so every path is a row in a table test. Global
words come first, in the order short-code rules demand: opt-out beats everything, HELP
works even while opted out, then menu navigation, then topic keywords, then a hint.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache

from bot import segments
from bot.content import Catalog, Language, Topic, normalise_keyword

# How much of an inbound text is read: commands and keywords are short, and a
# 10,000-character body must cost no more than a 10-character one.
READ_CHARS = 160
FUZZY_CUTOFF = 0.8


class State(str, Enum):
    NEW = "new"
    MENU = "menu"
    LANGUAGE = "language"  # showing the language list
    MESSAGE = "message"  # showing a key message's short text
    DETAIL = "detail"  # showing its detail


class Event(str, Enum):
    """What a step did, for the message log and the figures."""

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
    SILENT = "silent"
    HINT = "hint"


@dataclass(frozen=True)
class Session:
    """Where a person is in the menu; forgotten after an idle time."""

    state: State = State.NEW
    page: int = 0
    topic: str = ""
    index: int = 0  # 0-based key message within the topic
    pending: str = ""  # text that did not fit and waits behind MORE

    def to_dict(self) -> dict:
        return {
            "state": self.state.value,
            "page": self.page,
            "topic": self.topic,
            "index": self.index,
            "pending": self.pending,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> Session:
        if not data:
            return cls()
        try:
            return cls(
                State(data["state"]), int(data["page"]), str(data["topic"]), int(data["index"]), str(data["pending"])
            )
        except (KeyError, ValueError, TypeError):
            return cls()  # a session from an older release: start again rather than fail


@dataclass(frozen=True)
class Profile:
    """What is kept about a person without expiry."""

    lang: str = ""
    country: str = ""
    opted_out: bool = False


@dataclass(frozen=True)
class Limits:
    budget: int = 1  # segments per SMS part
    max_parts: int = 3
    smart: bool = True
    transliterate: frozenset[str] = frozenset()  # languages sent with GSM-7 look-alike letters


@dataclass(frozen=True)
class Context:
    """What the engine may know beyond the text: program texts and per-country numbers."""

    program: str = "Facts for Life"
    contact: str = "your local health worker"
    default_lang: str = "en"
    country_languages: tuple[tuple[str, str], ...] = ()  # (ISO country, language) for first contacts

    def first_language(self, country: str) -> str:
        return dict(self.country_languages).get(country, self.default_lang)


@dataclass(frozen=True)
class Step:
    session: Session
    profile: Profile
    parts: tuple[str, ...]
    event: Event
    topic: str = ""
    message: str = ""


def step(
    session: Session,
    profile: Profile,
    text: str,
    catalog: Catalog,
    limits: Limits = Limits(),
    context: Context = Context(),
) -> Step:
    """Advance one person's conversation by one inbound text."""
    first_contact = not profile.lang
    if first_contact:
        profile = replace(profile, lang=context.first_language(profile.country))
    lang = catalog.language(profile.lang)
    word = normalise_keyword(text[:READ_CHARS])
    turn = _Turn(session, profile, lang, catalog, limits, context)

    # Opting out and asking for help work in every language, whatever the profile says.
    if word in catalog.opt_out_words:
        if profile.opted_out:
            return turn.silent()
        return turn.say(Session(), Event.OPT_OUT, turn.text("stopped"), profile=replace(profile, opted_out=True))
    if word in catalog.help_words:
        return turn.say(session, Event.HELP, turn.text("help"))
    if profile.opted_out:
        if lang.is_command(word, "opt_in"):
            opted_in = replace(profile, opted_out=False)
            return turn.menu(0, Event.OPT_IN, lead=turn.text("restarted"), profile=opted_in)
        return turn.silent()
    chosen = _language_choice(word, session, catalog, lang)
    if chosen is not None:
        return turn.choose_language(chosen)
    if session.state is State.NEW and not word.isdigit():
        # A first contact, or a return after the session expired: any topic word
        # still leads straight to the topic; anything else gets the welcome.
        topic = _find_topic(word, lang)
        if topic:
            return turn.show_message(topic, 0)
        lead = turn.text("welcome")
        if first_contact and len(catalog.languages) > 1:
            lead += "\n" + turn.text("language_hint")
        return turn.menu(0, Event.WELCOME, lead=lead)
    if lang.is_command(word, "menu"):
        return turn.menu(0, Event.MENU)
    if lang.is_command(word, "more"):
        return turn.more()
    if lang.is_command(word, "back"):
        return turn.back()
    if word.isdigit():
        return turn.number(int(word))
    if not word:
        return turn.say(session, Event.HINT, turn.text("empty"))
    topic = _find_topic(word, lang)
    if topic:
        return turn.show_message(topic, 0)
    return turn.say(session, Event.HINT, turn.text("unknown"))


def _language_choice(word: str, session: Session, catalog: Catalog, lang: Language) -> Language | str | None:
    """What a text says about language: a language to switch to, "list" to show them, or None."""
    head, _, rest = word.partition(" ")
    if lang.is_command(head, "language"):
        return _pick_language(rest, catalog) or "list"
    if session.state is State.LANGUAGE and word.isdigit():
        return _pick_language(word, catalog) or "list"
    # A language's own name typed on its own (FRANCAIS, KISWAHILI, हिंदी); short codes
    # like HI are left alone, since "hi" is a greeting.
    if len(word) >= 4:
        return catalog.find_language(word)
    return None


def _pick_language(word: str, catalog: Catalog) -> Language | None:
    if not word:
        return None
    if word.isdigit():
        codes = list(catalog.languages)
        return catalog.languages[codes[int(word) - 1]] if 1 <= int(word) <= len(codes) else None
    return catalog.find_language(word)


def _find_topic(word: str, lang: Language) -> Topic | None:
    """A topic by its keyword, title or label; failing that, by the closest likely typo."""
    if not word:
        return None
    topic_id = lang.keywords.get(word)
    if topic_id is None and len(word) >= 4:
        close = difflib.get_close_matches(word, lang.keywords, n=1, cutoff=FUZZY_CUTOFF)
        topic_id = lang.keywords[close[0]] if close else None
    return lang.topic(topic_id) if topic_id else None


class _Turn:
    """One step's helpers: formatting and splitting replies for this person."""

    def __init__(self, session, profile, lang, catalog, limits, context):
        self.session, self.profile, self.lang = session, profile, lang
        self.catalog, self.limits, self.context = catalog, limits, context

    def text(self, key: str, **fields) -> str:
        return self.lang.texts[key].format(program=self.context.program, contact=self.context.contact, **fields)

    def say(self, session: Session, event: Event, text: str, *, profile=None, topic="", message="") -> Step:
        if self.limits.smart:
            text = segments.smart_encode(text)
        if self.lang.code in self.limits.transliterate:
            text = segments.transliterate(text)
        more = self.lang.word("more")
        cut = segments.split(text, budget=self.limits.budget, max_parts=self.limits.max_parts, more_marker=more)
        session = replace(session, pending=cut.rest)
        return Step(session, profile or self.profile, cut.parts, event, topic, message)

    def silent(self) -> Step:
        return Step(self.session, self.profile, (), Event.SILENT)

    # -- languages ------------------------------------------------------------------

    def choose_language(self, chosen: Language | str) -> Step:
        if isinstance(chosen, Language):
            turn = _Turn(self.session, replace(self.profile, lang=chosen.code), chosen, self.catalog, self.limits,
                         self.context)  # fmt: skip
            lead = turn.text("language_set", name=chosen.name)
            return turn.menu(0, Event.LANGUAGE, lead=lead, profile=turn.profile)
        names = "\n".join(f"{n} {lang.name}" for n, lang in enumerate(self.catalog.languages.values(), 1))
        body = f"{self.text('language_menu')}\n{names}"
        return self.say(Session(State.LANGUAGE), Event.LANGUAGE, body)

    # -- menus ----------------------------------------------------------------------

    def menu(self, page: int, event: Event, *, lead: str = "", profile=None) -> Step:
        pages = menu_pages(self.lang, self.limits.budget)
        page = page % len(pages)
        body = pages[page]
        return self.say(Session(State.MENU, page=page), event, f"{lead}\n{body}" if lead else body, profile=profile)

    def back(self) -> Step:
        s = self.session
        if s.state is State.DETAIL:
            return self.show_message(self.lang.topic(s.topic), s.index)
        if s.state is State.MESSAGE:
            return self.menu(self._page_of(s.topic), Event.MENU)
        return self.menu(max(s.page - 1, 0), Event.MENU)

    def _page_of(self, topic_id: str) -> int:
        number = next(n for n, t in enumerate(self.lang.topics, 1) if t.id == topic_id)
        pages = menu_pages(self.lang, self.limits.budget)
        return next(p for p, body in enumerate(pages) if f"\n{number} " in f"\n{body}")

    def number(self, n: int) -> Step:
        s = self.session
        if s.state in (State.MESSAGE, State.DETAIL):
            topic = self.lang.topic(s.topic)
            if 1 <= n <= len(topic.messages):
                return self.show_message(topic, n - 1)
            return self.say(s, Event.HINT, self.text("pick_message", label=topic.label, max=len(topic.messages)))
        if 1 <= n <= len(self.lang.topics):
            return self.show_message(self.lang.topics[n - 1], 0)
        return self.say(s, Event.HINT, self.text("pick_number", max=len(self.lang.topics)))

    def more(self) -> Step:
        s = self.session
        if s.pending:
            return self.say(replace(s, pending=""), Event.CONTINUED, s.pending, topic=s.topic)
        if s.state is State.MENU:
            return self.menu(s.page + 1, Event.MENU)
        topic = self.lang.topic(s.topic)
        if s.state is State.MESSAGE:
            return self.show_detail(topic, s.index)
        if s.index + 1 < len(topic.messages):
            return self.show_message(topic, s.index + 1)
        end = self.text("topic_end", label=topic.label)
        return self.say(Session(State.MENU), Event.TOPIC_END, end, topic=topic.id)

    # -- key messages ---------------------------------------------------------------

    def show_message(self, topic: Topic, index: int) -> Step:
        m = topic.messages[index]
        n, total = index + 1, len(topic.messages)
        # The fullest form that still fits one SMS: the key message itself must
        # never wait behind MORE because of our own decoration.
        full = self.text("message", label=topic.label, n=n, total=total, short=m.short)
        brief = self.text("message_short", n=n, total=total, short=m.short)
        forms = [
            f"{full}\n{self.text('message_hint')}",
            f"{full}\n{self.text('message_hint_short')}",
            f"{brief}\n{self.text('message_hint_short')}",
        ]
        limit = segments.capacity(segments.GSM7, self.limits.budget)
        body = next((f for f in forms if segments.units(f) <= limit), forms[-1])
        body += self._helpline(topic)
        return self.say(
            Session(State.MESSAGE, topic=topic.id, index=index), Event.MESSAGE, body, topic=topic.id, message=m.id
        )

    def show_detail(self, topic: Topic, index: int) -> Step:
        m = topic.messages[index]
        body = f"{m.detail}\n{self.text('detail_hint')}{self._helpline(topic)}"
        return self.say(
            Session(State.DETAIL, topic=topic.id, index=index), Event.DETAIL, body, topic=topic.id, message=m.id
        )

    def _helpline(self, topic: Topic) -> str:
        if not topic.helpline:
            return ""
        h = self.catalog.helpline(self.profile.country)
        return "\n" + self.text("helpline", child=h.child, emergency=h.emergency)


@lru_cache(maxsize=64)
def _pages(topic_lines: tuple[str, ...], header: str, more: str, last: str, budget: int) -> tuple[str, ...]:
    footer = max(more, last, key=len)
    pages, lines = [], []
    for line in topic_lines:
        candidate = "\n".join([header, *lines, line, footer])
        if lines and segments.count(candidate).segments > budget:
            pages.append(lines)
            lines = []
        lines.append(line)
    pages.append(lines)
    if len(pages) == 1:
        return ("\n".join([header, *pages[0]]),)
    return tuple("\n".join([header, *p, more if n < len(pages) - 1 else last]) for n, p in enumerate(pages))


def menu_pages(lang: Language, budget: int) -> tuple[str, ...]:
    """The numbered topic list, cut into pages that each fit one SMS part."""
    lines = tuple(f"{n} {t.label}" for n, t in enumerate(lang.topics, 1))
    t = lang.texts
    return _pages(lines, t["menu_header"], t["menu_more"], t["menu_last"], budget)
