"""USSD: the menu engine behind CON/END screens (Africa's Talking's protocol). Pure.

A gateway sends the whole path of a session's inputs joined by `*` ("1*2*98"). With the
session's state we know how many inputs were already acted on, so the rest is the new
input, even when a person typed `*` inside it. Without state (expired, flushed, another
process) the position is rebuilt by replaying the path from the first screen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot import navigation, reading
from bot.content import Catalog
from bot.engine import Engine
from bot.menu import Action, Answer, Do, Event, Profile, Session, State
from bot.navigation import Line

# A path longer than this is not replayed: nobody types 100 choices in 180 seconds.
MAX_REPLAY = 100
RESUMABLE = (State.MESSAGE, State.DETAIL)
FIXED = {"00": Do.MENU, "0": Do.BACK, "98": Do.MORE, "99": Do.OPT_OUT, "77": Do.LANGUAGE}
# On a key message's screen: 1 why it matters (or the key message again, from its detail), 2 next, 3 SMS, 4 subscribe.
READING = {"2": Do.NEXT_TIP, "3": Do.SEND_SMS, "4": Do.JOIN}


@dataclass(frozen=True)
class UssdState:
    """One USSD session: whose it is, how much of the path was acted on, where it is."""

    phone: str
    consumed: int = 0
    session: Session = Session()
    screen: str = ""  # the last screen sent, for a repeated request
    offer: Session | None = None  # where a dropped session left off, while offering to resume

    def to_dict(self) -> dict:
        return {
            "phone": self.phone,
            "consumed": self.consumed,
            "session": self.session.to_dict(),
            "screen": self.screen,
            "offer": self.offer.to_dict() if self.offer else None,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> UssdState | None:
        if not data or not isinstance(data.get("phone"), str):
            return None
        try:
            offer = Session.from_dict(data["offer"]) if data.get("offer") else None
            return cls(data["phone"], int(data["consumed"]), Session.from_dict(data["session"]), str(data["screen"]),
                       offer)  # fmt: skip
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class UssdResult:
    """What one USSD request produced."""

    screen: str  # "CON ..." or "END ..."
    state: UssdState
    answer: Answer
    new_input: str  # what the person typed this time, for the log
    resume: Session | None  # where to offer to continue if this session drops
    repeated: bool = False  # the gateway sent the same request again: nothing new happened


def inputs(path: str) -> list[str]:
    return path.split("*") if path else []


def read_input(text: str, session: Session, profile: Profile, catalog: Catalog) -> Action:
    """A USSD input: numbered choices first, then anything an SMS could say."""
    text = text.strip()
    if session.join_pending and text in ("1", "0"):
        # A private topic's subscription asks first, "1 Yes / 0 No": nobody has to type YES on a keypad.
        return Action(Do.CONFIRM_JOIN if text == "1" else Do.DECLINE_JOIN)
    if text in FIXED:
        return Action(FIXED[text])
    if not text:
        return Action(Do.EMPTY)
    n = reading.number(text)
    if n is None or session.state is State.LANGUAGE:
        return reading.read_text(text, session, profile, catalog)
    if session.state in RESUMABLE:
        # A numbered option acts even when the screen it was on had more behind 98.
        if text == "1":
            return Action(Do.WHY if session.state is State.MESSAGE else Do.SHOW)
        return Action(READING[text]) if text in READING else Action(Do.UNKNOWN)
    if session.state is State.MENU and session.topic and text == "4":
        return Action(Do.JOIN)  # a topic's last screen offers "4 A tip every N days", not the menu's topic 4
    return Action(Do.NUMBER, n)


def run(engine: Engine, state: UssdState | None, phone: str, path: str, profile: Profile,
        resume: Session | None) -> UssdResult:  # fmt: skip
    """One USSD request: act on the new input, or replay the path when the state is gone."""
    parts = inputs(path)

    def act(session: Session, profile: Profile, text: str) -> Answer:
        read = read_input(text, session, engine.settle_language(profile), engine.catalog)
        return engine.answer(session, profile, read)

    if state is not None and state.consumed == len(parts) and state.screen:
        answer = Answer(state.session, profile, (state.screen[4:],), Event.CONTINUED)
        return UssdResult(state.screen, state, answer, "", _resumable(state.session), repeated=True)
    if state is not None and state.consumed < len(parts):
        new_input = "*".join(parts[state.consumed :])
        if state.offer is not None:
            answer = _answer_offer(engine, state.offer, profile, new_input, act)
        else:
            answer = act(state.session, profile, new_input)
    elif not parts:
        new_input = ""
        if _can_offer(engine, resume, profile):
            answer = _offer(engine, resume, profile)
            result = _finish(UssdState(phone, 0, Session(State.MENU), "", offer=resume), answer, new_input)
            return replace(result, resume=resume)
        answer = engine.answer(Session(), profile, Action(Do.EMPTY))
    else:
        # The state is gone: rebuild the position from the first screen.
        new_input = parts[-1]
        if len(parts) > MAX_REPLAY:
            answer = engine.answer(Session(), profile, Action(Do.MENU))
        else:
            answer = engine.answer(Session(), profile, Action(Do.EMPTY))
            for text in parts:
                answer = act(answer.session, answer.profile, text)
    return _finish(UssdState(phone, len(parts), answer.session), answer, new_input)


def _can_offer(engine: Engine, resume: Session | None, profile: Profile) -> bool:
    """An offer to continue names the topic: never for a private one (the next person to dial may not be them)."""
    lang = engine.language(profile)
    if resume is None or resume.state not in RESUMABLE or not navigation.still_there(resume, lang):
        return False
    topic = lang.topic(resume.topic)
    return not topic.is_discreet(topic.messages[resume.index])


def _offer(engine: Engine, resume: Session, profile: Profile) -> Answer:
    topic = engine.language(profile).topic(resume.topic)
    line = Line.of("ussd_resume", label=topic.label, n=resume.index + 1)
    return engine.say(Session(State.MENU), profile, Event.WELCOME, line)


def _answer_offer(engine: Engine, resume: Session, profile: Profile, text: str, act) -> Answer:
    if text.strip() == "1":
        return engine.answer(resume, profile, Action(Do.SHOW))
    if text.strip() == "2":
        return engine.answer(Session(State.MENU), profile, Action(Do.MENU))
    return act(Session(State.MENU), profile, text)


def _finish(state: UssdState, answer: Answer, new_input: str) -> UssdResult:
    end = answer.event is Event.OPT_OUT
    body = answer.parts[0] if answer.parts else ""
    screen = ("END " if end else "CON ") + body
    state = replace(state, session=answer.session, screen=screen)
    return UssdResult(screen, state, answer, new_input, None if end else _resumable(answer.session))


def _resumable(session: Session) -> Session | None:
    return session if session.state in RESUMABLE else None
