"""Navigation: where one input takes a person, as a `Move`. Pure, and the same for every channel.

A `Move` says what to show (a menu page, a key message, its detail, a system text...) and
the session and profile that follow; a channel's renderer (bot/render) decides how it looks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from bot import questions
from bot.content import Catalog, Helpline, Language, Topic
from bot.menu import Action, Context, Do, Event, Profile, Session, State

Layout = tuple[tuple[int, ...], ...]  # the topic menu's pages: the topic numbers on each


class Show(str, Enum):
    NOTHING = "nothing"  # silence (SMS to someone who opted out)
    TEXT = "text"  # system texts (help, hints, confirmations)
    MENU = "menu"  # a page of the topic menu, after its lead lines
    LANGUAGES = "languages"  # the numbered language list
    MESSAGE = "message"  # a key message's short text
    DETAIL = "detail"  # its detail
    PENDING = "pending"  # the rest of the last reply, which waited behind MORE


@dataclass(frozen=True)
class Line:
    """One system text by key, with its fields; the renderer picks the channel's wording."""

    key: str
    fields: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, key: str, **fields) -> Line:
        return cls(key, tuple(fields.items()))


@dataclass(frozen=True)
class Move:
    show: Show
    session: Session
    profile: Profile
    event: Event
    lang: Language  # the language it is shown in
    lines: tuple[Line, ...] = ()  # TEXT: what is said; MENU: lines before the page
    footer: tuple[Line, ...] = ()  # lines after whatever is shown
    page: int = 0  # MENU
    topic: Topic | None = None  # MESSAGE, DETAIL
    index: int = 0  # MESSAGE, DETAIL: the key message within the topic
    helpline: Helpline | None = None  # MESSAGE, DETAIL of a topic that ends with the helpline
    text: str = ""  # PENDING
    choices: tuple[str, ...] = ()  # LANGUAGES: the names, in order
    log_topic: str = ""
    log_message: str = ""


@dataclass(frozen=True)
class Here:
    """Everything navigation may look at for one input."""

    session: Session
    profile: Profile  # its language already settled
    lang: Language
    catalog: Catalog
    context: Context
    layout: Callable[[Language], Layout]  # the channel's menu pages for a language
    silent_when_opted_out: bool  # SMS stays silent after STOP; a USSD dial is the person asking
    footer: tuple[Line, ...] = ()
    matches: int = 2  # key messages a question's answer offers (the channel's room for them)


def navigate(here: Here, action: Action, first_contact: bool) -> Move:
    """Where `action` takes the person `here`."""
    do, profile = action.do, here.profile
    if here.session.join_pending and do not in (Do.CONFIRM_JOIN, Do.DECLINE_JOIN):
        here = replace(here, session=replace(here.session, join_pending=""))  # the question was not answered
    if do is Do.OPT_OUT:
        if profile.opted_out and here.silent_when_opted_out:
            return silent(here)
        # STOP ends everything: subscriptions and group memberships too, not only replies.
        stopped = replace(profile, opted_out=True, subscriptions=(), groups=(), invite="")
        return say(here, Session(), Event.OPT_OUT, Line.of("stopped"), profile=stopped)
    if do is Do.HELP:
        return say(here, here.session, Event.HELP, Line.of("help"))
    if do is Do.URGENT:
        # Answered even after STOP, like HELP: the person wrote to us, and this is one reply to
        # that message; the opt-out stands and nothing else is ever sent unasked.
        emergency = here.catalog.helpline(profile.country).emergency
        line = Line.of("urgent", emergency=emergency) if emergency else Line.of("urgent_no_number")
        return say(here, here.session, Event.URGENT, line)
    if do is Do.ACCEPT_INVITE:
        joined = replace(profile, opted_out=False, invite="", groups=tuple(sorted({*profile.groups, profile.invite})))
        return say(here, here.session, Event.INVITE_ACCEPTED, Line.of("invite_accepted", group=profile.invite.upper()),
                   profile=joined)  # fmt: skip
    if profile.opted_out:
        if do is Do.OPT_IN:
            return menu(here, 0, Event.OPT_IN, lead=(Line.of("restarted"),), profile=replace(profile, opted_out=False))
        if here.silent_when_opted_out:
            return silent(here)
    if do is Do.LANGUAGE:
        return choose_language(here, here.catalog.languages.get(str(action.value)))
    if do is Do.DELIVERY:
        return _delivery(here, action)
    offer_languages = first_contact and len(here.catalog.languages) > 1
    if here.session.state is State.NEW and do not in (Do.NUMBER, Do.TOPIC, Do.SYMPTOM, Do.JOIN, Do.LEAVE,
                                                      Do.QUESTION):  # fmt: skip
        lead = (Line.of("welcome"), Line.of("language_hint")) if offer_languages else (Line.of("welcome"),)
        return menu(here, 0, Event.WELCOME, lead=lead)
    if offer_languages:
        # A first text that goes straight to a topic still learns, once, how to change language.
        here = replace(here, footer=(Line.of("language_hint"),))
    return _HANDLERS[do](here, action)


def silent(here: Here) -> Move:
    return Move(Show.NOTHING, here.session, here.profile, Event.SILENT, here.lang)


def say(here: Here, session: Session, event: Event, *lines: Line, profile: Profile | None = None, topic: str = "",
        message: str = "") -> Move:  # fmt: skip
    return Move(Show.TEXT, session, profile or here.profile, event, here.lang, lines=lines, footer=here.footer,
                log_topic=topic, log_message=message)  # fmt: skip


def still_there(session: Session, lang: Language) -> bool:
    """The topic and key message a session points at still exist (content can be republished)."""
    topic = next((t for t in lang.topics if t.id == session.topic), None)
    return topic is not None and 0 <= session.index < len(topic.messages)


def keyword(topic: Topic) -> str:
    """The word to text for a topic: its first keyword, else its label."""
    return str(topic.keywords[0]).upper() if topic.keywords else topic.label.upper()


def heading(topic: Topic, index: int) -> Line:
    """A key message headed with its place in the topic; a private topic's header never names it."""
    m, n, total = topic.messages[index], index + 1, len(topic.messages)
    if topic.is_discreet(m):
        return Line.of("message_discreet", n=n, total=total, short=m.short)
    return Line.of("message", label=topic.label, n=n, total=total, short=m.short)


def about(here: Here, key: str, topic: Topic, private: bool, **fields) -> Line:
    """A system text about `topic`: for a private one its neutral `<key>_discreet` twin, which
    gets the topic's menu number (JOIN 11) instead of its label and keyword: phones are shared."""
    number = here.lang.topics.index(topic) + 1
    if private:
        return Line.of(f"{key}_discreet", number=number, **fields)
    return Line.of(key, label=topic.label, keyword=keyword(topic), number=number, **fields)


# -- menus and languages ------------------------------------------------------------------


def menu(here: Here, page: int, event: Event, *, lead: tuple[Line, ...] = (), profile: Profile | None = None,
         lang: Language | None = None) -> Move:  # fmt: skip
    lang = lang or here.lang
    page %= len(here.layout(lang))
    return Move(Show.MENU, Session(State.MENU, page=page), profile or here.profile, event, lang, lines=lead,
                footer=here.footer, page=page)  # fmt: skip


def choose_language(here: Here, chosen: Language | None) -> Move:
    if chosen is None:
        names = tuple(lang.name for lang in here.catalog.languages.values())
        return Move(Show.LANGUAGES, Session(State.LANGUAGE), here.profile, Event.LANGUAGE, here.lang, choices=names)
    profile = replace(here.profile, lang=chosen.code)
    return menu(replace(here, footer=()), 0, Event.LANGUAGE, lead=(Line.of("language_set", name=chosen.name),),
                profile=profile, lang=chosen)  # fmt: skip


def _page_of(here: Here, topic_id: str) -> int:
    number = next(n for n, t in enumerate(here.lang.topics, 1) if t.id == topic_id)
    return next(p for p, numbers in enumerate(here.layout(here.lang)) if number in numbers)


def _back(here: Here, action: Action) -> Move:
    s = here.session
    if s.state is State.DETAIL:
        return show_message(here, here.lang.topic(s.topic), s.index)
    if s.state is State.MESSAGE:
        return menu(here, _page_of(here, s.topic), Event.MENU)
    return menu(here, max(s.page - 1, 0), Event.MENU)


def _number(here: Here, action: Action) -> Move:
    s, n, topics = here.session, int(action.value), here.lang.topics
    if s.reading:
        topic = here.lang.topic(s.topic)
        if 1 <= n <= len(topic.messages):
            return show_message(here, topic, n - 1)
        private = topic.is_discreet(topic.messages[s.index])
        return say(here, s, Event.HINT, about(here, "pick_message", topic, private, max=len(topic.messages)))
    if 1 <= n <= len(topics):
        return show_message(here, topics[n - 1], 0)
    return say(here, s, Event.HINT, Line.of("pick_number", max=len(topics)))


def _more(here: Here, action: Action | None = None) -> Move:
    s = here.session
    if s.pending:
        return Move(Show.PENDING, replace(s, pending=""), here.profile, Event.CONTINUED, here.lang, footer=here.footer,
                    text=s.pending, log_topic=s.topic)  # fmt: skip
    if s.state in (State.MENU, State.LANGUAGE, State.NEW):
        return menu(here, s.page + 1 if s.state is State.MENU else 0, Event.MENU)
    if s.state is State.MESSAGE:
        return show_detail(here, here.lang.topic(s.topic), s.index)
    return _next_tip(here, action)


def _why(here: Here, action: Action) -> Move:
    s = here.session
    return show_detail(here, here.lang.topic(s.topic), s.index) if s.reading else _more(here)


def _next_tip(here: Here, action: Action | None) -> Move:
    s = here.session
    if not s.reading:
        return _more(here)
    topic = here.lang.topic(s.topic)
    if s.index + 1 < len(topic.messages):
        return show_message(here, topic, s.index + 1)
    end = about(here, "topic_end", topic, topic.is_discreet(topic.messages[s.index]), days=here.context.drip_days)
    # The menu, still knowing the topic: JOIN (USSD: 4) right after its last tip subscribes to it.
    return say(here, Session(State.MENU, topic=topic.id), Event.TOPIC_END, end, topic=topic.id)


def _show(here: Here, action: Action | None = None) -> Move:
    """The current place again, from its start (e.g. resuming a dropped USSD session)."""
    s = here.session
    if s.state is State.MESSAGE:
        return show_message(here, here.lang.topic(s.topic), s.index)
    if s.state is State.DETAIL:
        return show_detail(here, here.lang.topic(s.topic), s.index)
    return menu(here, s.page, Event.MENU)


def _send_sms(here: Here, action: Action) -> Move:
    """Confirm; the channel's shell sends the key message itself (it knows the ids)."""
    s = here.session
    if not s.reading:
        return _show(here)
    topic = here.lang.topic(s.topic)
    message = topic.messages[s.index]
    return say(here, replace(s, pending=""), Event.SEND_SMS, Line.of("sms_sent"), topic=topic.id, message=message.id)


# -- subscriptions ------------------------------------------------------------------------


def _subscription_topic(here: Here, value: str) -> Topic | None:
    if value == "?":
        return None
    topic_id = value or here.session.topic  # the one being read, or whose last tip was just read
    return here.lang.topic(topic_id) if topic_id else None


def _symptom(here: Here, action: Action) -> Move:
    """A symptom leads to the key message that says to seek care (malaria's only where malaria is)."""
    route = here.catalog.symptoms.get(str(action.value))
    if route is None:
        return say(here, here.session, Event.HINT, Line.of("unknown"))
    malaria_free = here.profile.country not in here.context.malaria_countries
    found = here.lang.message(route.elsewhere if route.elsewhere and malaria_free else route.message)
    if found is None:
        return say(here, here.session, Event.HINT, Line.of("unknown"))
    topic, message = found
    return show_message(here, topic, topic.messages.index(message))


def _join(here: Here, action: Action) -> Move:
    topic = _subscription_topic(here, str(action.value))
    if topic is None:
        return say(here, here.session, Event.HINT, Line.of("join_which"))
    if topic.discreet and topic.id not in here.profile.subscriptions:
        # Tips on a private topic arrive on a phone others may read: subscribing takes a YES.
        asked = replace(here.session, join_pending=topic.id)
        return say(here, asked, Event.JOIN_CONFIRM, Line.of("join_discreet_confirm", days=here.context.drip_days))
    return _subscribe(here, topic)


def _confirm_join(here: Here, action: Action) -> Move:
    topic = next((t for t in here.lang.topics if t.id == here.session.join_pending), None)
    here = replace(here, session=replace(here.session, join_pending=""))
    return _subscribe(here, topic) if topic else menu(here, 0, Event.MENU)


def _decline_join(here: Here, action: Action) -> Move:
    return menu(here, 0, Event.MENU)


def _subscribe(here: Here, topic: Topic) -> Move:
    profile = replace(here.profile, subscriptions=tuple(sorted({*here.profile.subscriptions, topic.id})))
    joined = about(here, "joined", topic, topic.discreet, days=here.context.drip_days)
    return say(here, here.session, Event.JOINED, joined, profile=profile, topic=topic.id)


def _delivery(here: Here, action: Action) -> Move:
    """VOICE: tips come as phone calls from now on (bot/calls.py); SMS or VOICE OFF: by SMS again."""
    voice = action.value == "voice"
    if voice and not here.context.voice_calls:
        return say(here, here.session, Event.HINT, Line.of("unknown"))  # no voice line here: nothing to promise
    profile = replace(here.profile, delivery="voice" if voice else "")
    return say(here, here.session, Event.DELIVERY, Line.of("voice_on" if voice else "voice_off"), profile=profile)


def _join_call(here: Here, action: Action) -> Move:
    """A key on the voice line: this topic's tips, and every tip after, by phone call (a private topic asks first)."""
    move = _join(here, Action(Do.JOIN, action.value))
    if move.event is not Event.JOINED:
        return move
    return replace(move, profile=replace(move.profile, delivery="voice"), lines=(Line.of("joined_call"),))


def _leave(here: Here, action: Action) -> Move:
    topic = _subscription_topic(here, str(action.value))
    if topic is None:
        return say(here, here.session, Event.HINT, Line.of("join_which"))
    profile = replace(here.profile, subscriptions=tuple(t for t in here.profile.subscriptions if t != topic.id))
    left = about(here, "left", topic, topic.discreet)
    return say(here, here.session, Event.LEFT, left, profile=profile, topic=topic.id)


# -- questions ----------------------------------------------------------------------------


def _question(here: Here, action: Action) -> Move:
    """A family's own question: the closest key messages, honestly so; the shell puts it in the inbox.

    (A text naming a symptom took the symptom's way in reading.) The session stands on the
    first tip offered, so MORE gives its detail.
    """
    found = [(m.topic, m.index) for m in questions.closest(here.lang, str(action.value), here.matches)]
    closing = Line.of("question_helpdesk") if here.context.helpdesk else Line.of("question_no_helpdesk")
    if not found:
        return say(here, here.session, Event.QUESTION, Line.of("question_none"), closing)
    lines = [Line.of("question_intro")]
    lines.extend(heading(topic, index) for topic, index in found)
    first, index = found[0]
    session = Session(State.MESSAGE, topic=first.id, index=index)
    return say(here, session, Event.QUESTION, *lines, closing, Line.of("question_hint"))


# -- key messages -------------------------------------------------------------------------


def show_message(here: Here, topic: Topic, index: int) -> Move:
    return _reading(here, Show.MESSAGE, topic, index)


def show_detail(here: Here, topic: Topic, index: int) -> Move:
    return _reading(here, Show.DETAIL, topic, index)


def _reading(here: Here, show: Show, topic: Topic, index: int) -> Move:
    state, event = (State.MESSAGE, Event.MESSAGE) if show is Show.MESSAGE else (State.DETAIL, Event.DETAIL)
    helpline = here.catalog.helpline(here.profile.country) if topic.helpline else None
    return Move(show, Session(state, topic=topic.id, index=index), here.profile, event, here.lang, footer=here.footer,
                topic=topic, index=index, helpline=helpline, log_topic=topic.id,
                log_message=topic.messages[index].id)  # fmt: skip


_HANDLERS: dict[Do, Callable[[Here, Action], Move]] = {
    Do.OPT_IN: lambda here, action: menu(here, 0, Event.MENU),
    Do.MENU: lambda here, action: menu(here, 0, Event.MENU),
    Do.MORE: _more,
    Do.BACK: _back,
    Do.NUMBER: _number,
    Do.TOPIC: lambda here, action: show_message(here, here.lang.topic(str(action.value)), 0),
    Do.NEXT_TIP: _next_tip,
    Do.WHY: _why,
    Do.SHOW: _show,
    Do.SEND_SMS: _send_sms,
    Do.JOIN: _join,
    Do.CONFIRM_JOIN: _confirm_join,
    Do.DECLINE_JOIN: _decline_join,
    Do.SYMPTOM: _symptom,
    Do.QUESTION: _question,
    Do.LEAVE: _leave,
    Do.JOIN_CALL: _join_call,
    Do.EMPTY: lambda here, action: say(here, here.session, Event.HINT, Line.of("empty")),
    Do.UNKNOWN: lambda here, action: say(here, here.session, Event.HINT, Line.of("unknown")),
}
