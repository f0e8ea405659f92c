"""The menu engine: (session, profile, inbound, catalog) -> (new session, profile, reply).

Pure: no Flask, Redis or provider inside, so every path is a row in a table test.
`step` reads an SMS text into an `Action` (`parse`) and carries it out (`act`); other
channels (USSD) parse their own input into the same actions, so the menu logic exists
once. What differs by channel is only rendering, described by `Limits`: SMS parts of N
segments with "1/3" numbers, or USSD screens with numbered navigation.

Global words come first, in the order short-code rules demand: opt-out beats
everything, HELP works even while opted out, then navigation, then topic keywords,
then a hint.
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
    SEND_SMS = "send_sms"
    JOINED = "joined"
    LEFT = "left"
    INVITE_ACCEPTED = "invite_accepted"
    FIELDWORK = "fieldwork"
    SILENT = "silent"
    HINT = "hint"


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
    JOIN = "join"  # value: topic id ("" for the current topic)
    LEAVE = "leave"  # value: topic id
    ACCEPT_INVITE = "accept_invite"  # YES to a field worker's invitation
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
    subscriptions: tuple[str, ...] = ()  # topic ids with a drip series running
    groups: tuple[str, ...] = ()  # field workers' groups this person joined (said YES)
    invite: str = ""  # a group this person was invited to and has not answered yet


@dataclass(frozen=True)
class Limits:
    """How replies are cut for a channel."""

    budget: int = 1  # SMS: segments per part
    max_parts: int = 3  # SMS: parts per reply; the rest waits behind MORE
    smart: bool = True
    transliterate: frozenset[str] = frozenset()  # languages sent with GSM-7 look-alike letters
    screen: int = 0  # USSD: characters per screen (GSM-7); 0 means SMS
    screen_ucs2: int = 0  # USSD: characters per screen when the text needs UCS-2
    texts: str = ""  # prefix of channel-specific system texts, e.g. "ussd_"
    silent_when_opted_out: bool = True  # SMS must stay silent; a USSD dial is the person asking

    def part_limit(self, encoding: str) -> int:
        if self.screen:
            return self.screen if encoding == segments.GSM7 else self.screen_ucs2
        return segments.capacity(encoding, self.budget)


@dataclass(frozen=True)
class Context:
    """What the engine may know beyond the text: program texts and first-contact languages."""

    program: str = "Facts for Life"
    contact: str = "your local health worker"
    default_lang: str = "en"
    country_languages: tuple[tuple[str, str], ...] = ()  # (ISO country, language) for first contacts
    drip_days: int = 7

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
    """Advance one person's conversation by one inbound SMS text."""
    # Read the text in the language the person will get; `act` still sees a first contact as such.
    action = parse(text, session, _with_language(profile, context), catalog)
    return act(session, profile, action, catalog, limits, context)


def parse(text: str, session: Session, profile: Profile, catalog: Catalog) -> Action:
    """What an SMS text asks for, read in the person's language and in English."""
    lang = catalog.language(profile.lang)
    word = normalise_keyword(text[:READ_CHARS])
    # The person's language and English: a word that means STOP in one language can be
    # an everyday word in another ("acha" is Swahili's "stop" and Hindi's "okay").
    if lang.is_command(word, "opt_out") or word in catalog.script_opt_out_words:
        return Action(Do.OPT_OUT)
    if lang.is_command(word, "help"):
        return Action(Do.HELP)
    if profile.invite and lang.is_command(word, "opt_in"):
        return Action(Do.ACCEPT_INVITE)
    if profile.opted_out and lang.is_command(word, "opt_in"):
        return Action(Do.OPT_IN)
    head, _, rest = word.partition(" ")
    for command, do in (("join", Do.JOIN), ("leave", Do.LEAVE)):
        if lang.is_command(head, command):
            topic = find_topic(rest, lang) if rest else None
            return Action(do, topic.id if topic else ("?" if rest else ""))
    if lang.is_command(head, "language"):
        return Action(Do.LANGUAGE, _language_code(rest, catalog))
    if session.state is State.LANGUAGE and word.isdigit():
        return Action(Do.LANGUAGE, _language_code(word, catalog))
    if len(word) >= 4 and catalog.find_language(word):
        # A language's own name typed on its own (FRANCAIS, KISWAHILI); short codes
        # like HI are left alone, since "hi" is a greeting.
        return Action(Do.LANGUAGE, catalog.find_language(word).code)
    if lang.is_command(word, "menu"):
        return Action(Do.MENU)
    if lang.is_command(word, "more"):
        return Action(Do.MORE)
    if lang.is_command(word, "next"):
        return Action(Do.NEXT_TIP)
    if lang.is_command(word, "back"):
        return Action(Do.BACK)
    if word.isdigit():
        return Action(Do.NUMBER, int(word[:6]))
    if not word:
        return Action(Do.EMPTY)
    topic = find_topic(word, lang)
    return Action(Do.TOPIC, topic.id) if topic else Action(Do.UNKNOWN)


def act(
    session: Session,
    profile: Profile,
    action: Action,
    catalog: Catalog,
    limits: Limits = Limits(),
    context: Context = Context(),
) -> Step:
    """Carry out one action for one person."""
    first_contact = not profile.lang
    profile = _with_language(profile, context)
    lang = catalog.language(profile.lang)
    if session.topic and not still_there(session, lang):
        session = Session(State.MENU)  # published content dropped or shortened the topic they were reading
    turn = _Turn(session, profile, lang, catalog, limits, context)
    do = action.do
    if do is Do.OPT_OUT:
        if profile.opted_out and limits.silent_when_opted_out:
            return turn.silent()
        # STOP ends everything: subscriptions and group memberships too, not only replies.
        stopped = replace(profile, opted_out=True, subscriptions=(), groups=(), invite="")
        return turn.say(Session(), Event.OPT_OUT, turn.text("stopped"), profile=stopped)
    if do is Do.HELP:
        return turn.say(session, Event.HELP, turn.text("help"))
    if do is Do.ACCEPT_INVITE:
        joined = replace(profile, opted_out=False, invite="", groups=tuple(sorted({*profile.groups, profile.invite})))
        return turn.say(session, Event.INVITE_ACCEPTED, turn.text("invite_accepted", group=profile.invite.upper()),
                        profile=joined)  # fmt: skip
    if profile.opted_out:
        if do is Do.OPT_IN:
            opted_in = replace(profile, opted_out=False)
            return turn.menu(0, Event.OPT_IN, lead=turn.text("restarted"), profile=opted_in)
        if limits.silent_when_opted_out:
            return turn.silent()
    if do is Do.LANGUAGE:
        return turn.choose_language(catalog.languages.get(str(action.value)))
    offer_languages = first_contact and len(catalog.languages) > 1
    if session.state is State.NEW and do not in (Do.NUMBER, Do.TOPIC, Do.JOIN, Do.LEAVE):
        lead = turn.text("welcome")
        if offer_languages:
            lead += "\n" + turn.text("language_hint")
        return turn.menu(0, Event.WELCOME, lead=lead)
    if offer_languages:
        # A first text that goes straight to a topic still learns, once, how to change language.
        turn.footer = turn.text("language_hint")
    handler = {
        Do.OPT_IN: lambda: turn.menu(0, Event.MENU),
        Do.MENU: lambda: turn.menu(0, Event.MENU),
        Do.MORE: turn.more,
        Do.BACK: turn.back,
        Do.NUMBER: lambda: turn.number(int(action.value)),
        Do.TOPIC: lambda: turn.show_message(turn.lang.topic(str(action.value)), 0),
        Do.NEXT_TIP: turn.next_tip,
        Do.WHY: turn.why,
        Do.SHOW: turn.show,
        Do.SEND_SMS: turn.send_sms,
        Do.JOIN: lambda: turn.join(str(action.value)),
        Do.LEAVE: lambda: turn.leave(str(action.value)),
        Do.EMPTY: lambda: turn.say(session, Event.HINT, turn.text("empty")),
        Do.UNKNOWN: lambda: turn.say(session, Event.HINT, turn.text("unknown")),
    }
    return handler[do]()


def cut_reply(text: str, lang_code: str, limits: Limits, more_marker: str) -> segments.Split:
    """Any reply as the channel sends it: smart-encoded, transliterated by policy, cut into parts."""
    if limits.smart:
        text = segments.smart_encode(text)
    if lang_code in limits.transliterate:
        text = segments.transliterate(text)
    per_encoding = {enc: limits.part_limit(enc) for enc in (segments.GSM7, segments.UCS2)}
    return segments.split(text, limits=per_encoding, max_parts=1 if limits.screen else limits.max_parts,
                          more_marker=more_marker, marker_sep="\n" if limits.screen else " ")  # fmt: skip


def still_there(session: Session, lang: Language) -> bool:
    """The topic and key message a session points at still exist (content can be republished)."""
    topic = next((t for t in lang.topics if t.id == session.topic), None)
    return topic is not None and 0 <= session.index < len(topic.messages)


def _with_language(profile: Profile, context: Context) -> Profile:
    return profile if profile.lang else replace(profile, lang=context.first_language(profile.country))


def _language_code(word: str, catalog: Catalog) -> str:
    if word.isdigit():
        codes = list(catalog.languages)
        return codes[int(word) - 1] if 1 <= int(word) <= len(codes) else ""
    found = catalog.find_language(word) if word else None
    return found.code if found else ""


def find_topic(word: str, lang: Language) -> Topic | None:
    """A topic by its keyword, title or label; failing that, by the closest likely typo."""
    if not word:
        return None
    topic_id = lang.keywords.get(word)
    if topic_id is None and len(word) >= 4:
        close = difflib.get_close_matches(word, lang.keywords, n=1, cutoff=FUZZY_CUTOFF)
        topic_id = lang.keywords[close[0]] if close else None
    return lang.topic(topic_id) if topic_id else None


class _Turn:
    """One step's helpers: formatting and cutting replies for this person and channel."""

    def __init__(self, session, profile, lang, catalog, limits, context):
        self.session, self.profile, self.lang = session, profile, lang
        self.catalog, self.limits, self.context = catalog, limits, context
        self.footer = ""  # a line added to whatever this turn says

    def text(self, key: str, **fields) -> str:
        texts = self.lang.texts
        template = texts.get(self.limits.texts + key, texts[key]) if self.limits.texts else texts[key]
        return template.format(program=self.context.program, contact=self.context.contact, **fields)

    def say(self, session: Session, event: Event, text: str, *, profile=None, topic="", message="") -> Step:
        if self.footer:
            text = f"{text}\n{self.footer}"
        marker = self.text("more_marker") if self.limits.screen else self.lang.word("more")
        cut = cut_reply(text, self.lang.code, self.limits, marker)
        session = replace(session, pending=cut.rest)
        return Step(session, profile or self.profile, cut.parts, event, topic, message)

    def silent(self) -> Step:
        return Step(self.session, self.profile, (), Event.SILENT)

    # -- languages ------------------------------------------------------------------

    def choose_language(self, chosen: Language | None) -> Step:
        if chosen is not None:
            profile = replace(self.profile, lang=chosen.code)
            turn = _Turn(self.session, profile, chosen, self.catalog, self.limits, self.context)
            # On a USSD screen the menu in the new language says it all; a line naming the language
            # ("Français", "हिंदी") would make the screen UCS-2 and push every topic off it.
            lead = "" if self.limits.screen else turn.text("language_set", name=chosen.name)
            return turn.menu(0, Event.LANGUAGE, lead=lead, profile=profile)
        names = "\n".join(f"{n} {lang.name}" for n, lang in enumerate(self.catalog.languages.values(), 1))
        return self.say(Session(State.LANGUAGE), Event.LANGUAGE, f"{self.text('language_menu')}\n{names}")

    # -- menus ----------------------------------------------------------------------

    def pages(self) -> tuple[str, ...]:
        lines = tuple(f"{n} {t.label}" for n, t in enumerate(self.lang.topics, 1))
        header, more, last = (self.text(k) for k in ("menu_header", "menu_more", "menu_last"))
        return _pages(
            lines, header, more, last, self.limits.part_limit(segments.GSM7), self.limits.part_limit(segments.UCS2)
        )

    def menu(self, page: int, event: Event, *, lead: str = "", profile=None) -> Step:
        pages = self.pages()
        page = page % len(pages)
        body = f"{lead}\n{pages[page]}" if lead else pages[page]
        return self.say(Session(State.MENU, page=page), event, body, profile=profile)

    def back(self) -> Step:
        s = self.session
        if s.state is State.DETAIL:
            return self.show_message(self.lang.topic(s.topic), s.index)
        if s.state is State.MESSAGE:
            return self.menu(self._page_of(s.topic), Event.MENU)
        return self.menu(max(s.page - 1, 0), Event.MENU)

    def _page_of(self, topic_id: str) -> int:
        number = next(n for n, t in enumerate(self.lang.topics, 1) if t.id == topic_id)
        return next(p for p, body in enumerate(self.pages()) if f"\n{number} " in f"\n{body}")

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
        if s.state in (State.MENU, State.LANGUAGE, State.NEW):
            return self.menu(s.page + 1 if s.state is State.MENU else 0, Event.MENU)
        if s.state is State.MESSAGE:
            return self.show_detail(self.lang.topic(s.topic), s.index)
        return self.next_tip()

    def why(self) -> Step:
        s = self.session
        if s.state in (State.MESSAGE, State.DETAIL):
            return self.show_detail(self.lang.topic(s.topic), s.index)
        return self.more()

    def next_tip(self) -> Step:
        s = self.session
        if s.state not in (State.MESSAGE, State.DETAIL):
            return self.more()
        topic = self.lang.topic(s.topic)
        if s.index + 1 < len(topic.messages):
            return self.show_message(topic, s.index + 1)
        end = self.text("topic_end", label=topic.label, keyword=_keyword(topic), days=self.context.drip_days)
        return self.say(Session(State.MENU), Event.TOPIC_END, end, topic=topic.id)

    def show(self) -> Step:
        """The current place again, from its start (e.g. resuming a dropped USSD session)."""
        s = self.session
        if s.state is State.MESSAGE:
            return self.show_message(self.lang.topic(s.topic), s.index)
        if s.state is State.DETAIL:
            return self.show_detail(self.lang.topic(s.topic), s.index)
        return self.menu(s.page, Event.MENU)

    def send_sms(self) -> Step:
        """Confirm; the channel's shell sends the key message itself (it knows the ids)."""
        s = self.session
        if s.state not in (State.MESSAGE, State.DETAIL):
            return self.show()
        topic = self.lang.topic(s.topic)
        m = topic.messages[s.index]
        return self.say(replace(s, pending=""), Event.SEND_SMS, self.text("sms_sent"), topic=topic.id, message=m.id)

    # -- subscriptions --------------------------------------------------------------

    def _subscription_topic(self, value: str) -> Topic | None:
        if value == "?":
            return None
        topic_id = value or (self.session.topic if self.session.state in (State.MESSAGE, State.DETAIL) else "")
        return self.lang.topic(topic_id) if topic_id else None

    def join(self, value: str) -> Step:
        topic = self._subscription_topic(value)
        if topic is None:
            return self.say(self.session, Event.HINT, self.text("join_which"))
        profile = replace(self.profile, subscriptions=tuple(sorted({*self.profile.subscriptions, topic.id})))
        text = self.text("joined", label=topic.label, days=self.context.drip_days, keyword=_keyword(topic))
        return self.say(self.session, Event.JOINED, text, profile=profile, topic=topic.id)

    def leave(self, value: str) -> Step:
        topic = self._subscription_topic(value)
        if topic is None:
            return self.say(self.session, Event.HINT, self.text("join_which"))
        profile = replace(self.profile, subscriptions=tuple(t for t in self.profile.subscriptions if t != topic.id))
        text = self.text("left", label=topic.label, keyword=_keyword(topic))
        return self.say(self.session, Event.LEFT, text, profile=profile, topic=topic.id)

    # -- key messages ---------------------------------------------------------------

    def show_message(self, topic: Topic, index: int) -> Step:
        m = topic.messages[index]
        n, total = index + 1, len(topic.messages)
        # The fullest form that still fits one part: the key message itself must
        # never wait behind MORE because of our own decoration.
        full = self.text("message", label=topic.label, n=n, total=total, short=m.short)
        brief = self.text("message_short", n=n, total=total, short=m.short)
        hint, short_hint = self.text("message_hint"), self.text("message_hint_short")
        help_line = self._helpline(topic)
        must_fit = help_line if self.limits.screen else ""  # see _with_help
        forms = [(full, hint), (full, short_hint), (brief, short_hint)]
        text, chosen = next((f for f in forms if self._fits(f"{f[0]}{must_fit}\n{f[1]}")), forms[-1])
        body = self._with_help(text, chosen, help_line)
        session = Session(State.MESSAGE, topic=topic.id, index=index)
        return self.say(session, Event.MESSAGE, body, topic=topic.id, message=m.id)

    def show_detail(self, topic: Topic, index: int) -> Step:
        m = topic.messages[index]
        body = self._with_help(m.detail, self.text("detail_hint"), self._helpline(topic))
        session = Session(State.DETAIL, topic=topic.id, index=index)
        return self.say(session, Event.DETAIL, body, topic=topic.id, message=m.id)

    def _with_help(self, text: str, hint: str, help_line: str) -> str:
        """`text`, its navigation `hint`, and (`help_line`) where to get help now.

        Every SMS part is delivered, so the helpline ends the reply. A USSD screen shows only
        what fits before "98 More", so there the helpline comes before the options.
        """
        if self.limits.screen:
            return f"{text}{help_line}\n{hint}"
        return f"{text}\n{hint}{help_line}"

    def _fits(self, text: str) -> bool:
        return segments.units(text) <= self.limits.part_limit(segments.encoding_of(text))

    def _helpline(self, topic: Topic) -> str:
        if not topic.helpline:
            return ""
        h = self.catalog.helpline(self.profile.country)
        return "\n" + self.text("helpline", child=h.child, emergency=h.emergency)


def _keyword(topic: Topic) -> str:
    """The word to text for a topic: its first keyword, else its label."""
    return str(topic.keywords[0]).upper() if topic.keywords else topic.label.upper()


@lru_cache(maxsize=256)
def _pages(lines: tuple[str, ...], header: str, more: str, last: str, limit7: int, limit16: int) -> tuple[str, ...]:
    """The numbered topic list, cut into pages that each fit one part in their encoding."""
    footer = max(more, last, key=len)
    pages, current = [], []
    for line in lines:
        candidate = "\n".join([header, *current, line, footer])
        limit = limit7 if segments.is_gsm7(candidate) else limit16
        if current and segments.units(candidate) > limit:
            pages.append(current)
            current = []
        current.append(line)
    pages.append(current)
    if len(pages) == 1:
        return ("\n".join([header, *pages[0]]),)
    return tuple("\n".join([header, *p, more if n < len(pages) - 1 else last]) for n, p in enumerate(pages))


def menu_pages(lang: Language, limits: Limits = Limits(), context: Context = Context()) -> tuple[str, ...]:
    """The topic menu's pages as this channel shows them."""
    return _Turn(Session(), Profile(lang=lang.code), lang, None, limits, context).pages()
