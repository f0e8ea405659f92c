"""The voice line: keypad presses into actions, a call's state, one turn of a call. Pure.

The keys follow USSD where one key can: on a key message 1 why it matters, 2 next tip,
3 send it by SMS, 4 tips by SMS one at a time, 5 tips by phone call (bot/calls.py), 0 back;
the main menu is 9 (USSD's 00 and 98 need two keys, and a caller presses one); 8 more
topics, 7 language (USSD's 77),
`*` says it again. On a menu page the keys 1-5 pick the page's topics. `#` ends a press
and is no key. Anything else (`²`, two keys, letters) says the same prompt again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from bot import navigation
from bot.audio import Clip
from bot.engine import Engine
from bot.menu import Action, Answer, Do, Event, Profile, Session, State
from bot.navigation import Line, Move, Show
from bot.render.voice import VoiceRenderer

RESUMABLE = (State.MESSAGE, State.DETAIL)
MISSES = 2  # no key this many times in a row: goodbye
MAX_SAID = 60  # clips kept for a repeat (a menu page is about 20)

EVERYWHERE = {"9": Do.MENU, "0": Do.BACK, "7": Do.LANGUAGE}
ON_MENU = {"8": Do.MORE}
READING = {"1": Do.WHY, "2": Do.NEXT_TIP, "3": Do.SEND_SMS, "4": Do.JOIN, "5": Do.JOIN_CALL}
AFTER_TOPIC = {"4": Do.JOIN, "5": Do.JOIN_CALL}  # the topic just ended: its tips by SMS, or by phone call


class Key(str, Enum):
    """A press the call answers by itself, without the menu."""

    REPEAT = "repeat"  # `*`: the last prompt again
    GARBAGE = "garbage"  # no key of this prompt: say so, then the prompt again
    NO_INPUT = "no_input"  # nothing pressed before the timeout (or `#` alone)


@dataclass(frozen=True)
class VoiceCall:
    """One call: whose it is, where in the menu, what it last played, and what it is waiting for."""

    phone: str
    session: Session = Session()
    said: tuple[Clip, ...] = ()  # the last prompt, for `*` and after no input
    misses: int = 0  # no-input timeouts in a row
    offer: Session | None = None  # where an earlier call dropped, while offering to go on there
    ended: str = ""  # the topic whose last tip was just played: 4 joins it (5 by phone call)
    turns: int = 0

    def to_dict(self) -> dict:
        return {
            "phone": self.phone,
            "session": self.session.to_dict(),
            "said": [[c.id, c.text, c.lang] for c in self.said],
            "misses": self.misses,
            "offer": self.offer.to_dict() if self.offer else None,
            "ended": self.ended,
            "turns": self.turns,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> VoiceCall | None:
        if not data or not isinstance(data.get("phone"), str):
            return None
        try:
            said = tuple(Clip(str(i), str(t), str(lang)) for i, t, lang in data.get("said") or ())
            offer = Session.from_dict(data["offer"]) if data.get("offer") else None
            return cls(data["phone"], Session.from_dict(data["session"]), said, int(data["misses"]), offer,
                       str(data.get("ended", "")), int(data.get("turns", 0)))  # fmt: skip
        except (KeyError, TypeError, ValueError):
            return None  # from an older release: the call starts again at the menu


@dataclass(frozen=True)
class VoiceAnswer(Answer):
    """The engine's answer on a call: the clips to play (Answer.parts holds them as the log's text)."""

    clips: tuple[Clip, ...] = ()


@dataclass(frozen=True)
class Turn:
    """What one request of a call produced."""

    call: VoiceCall
    answer: VoiceAnswer
    pressed: str  # for the log: the key, "(no key)", "(call)"
    hangup: bool = False
    resume: Session | None = None  # where to offer to go on if this call drops


class VoiceEngine(Engine):
    """The menu engine with clips instead of text parts."""

    renderer: VoiceRenderer

    def render(self, move: Move) -> VoiceAnswer:
        clips = self.renderer.clips(move)
        parts = (self.renderer.log_text(clips),) if clips else ()
        return VoiceAnswer(move.session, move.profile, parts, move.event, move.log_topic, move.log_message,
                           clips=clips)  # fmt: skip

    def play(self, session: Session, profile: Profile, event: Event, clips: tuple[Clip, ...]) -> VoiceAnswer:
        """Clips outside navigation (a repeat, a goodbye)."""
        parts = (self.renderer.log_text(clips),) if clips else ()
        return VoiceAnswer(session, profile, parts, event, clips=clips)

    def prompt(self, profile: Profile, key: str) -> Clip:
        return self.renderer.say(self.language(profile).code, key)


def read_key(digits: str, call: VoiceCall, engine: Engine, profile: Profile) -> Action | Key:
    """What a press means here. Only one ASCII key is a press: `²`, `12` or `a` are garbage."""
    digits = digits.strip()
    if not digits:
        return Key.NO_INPUT
    if len(digits) != 1 or not digits.isascii() or not (digits.isdigit() or digits == "*"):
        return Key.GARBAGE
    if digits == "*":
        return Key.REPEAT
    s = call.session
    if call.offer is not None and digits in "12":
        return Action(Do.SHOW) if digits == "1" else Action(Do.MENU)
    if s.state is State.LANGUAGE:
        codes = list(engine.catalog.languages)
        n = int(digits)
        if 1 <= n <= len(codes):
            return Action(Do.LANGUAGE, codes[n - 1])
    if call.ended and digits in AFTER_TOPIC:
        return Action(AFTER_TOPIC[digits], call.ended)
    if digits in EVERYWHERE:
        return Action(EVERYWHERE[digits])
    if s.reading:
        return Action(READING[digits]) if digits in READING else Key.GARBAGE
    if digits in ON_MENU:
        return Action(ON_MENU[digits])
    layout = engine.layout(engine.language(engine.settle_language(profile)))
    page = layout[s.page % len(layout)] if s.state is State.MENU else layout[0]
    n = int(digits)
    return Action(Do.NUMBER, page[n - 1]) if 1 <= n <= len(page) else Key.GARBAGE


def start(engine: VoiceEngine, phone: str, profile: Profile, resume: Session | None) -> Turn:
    """A call's first request: an offer to go on where an earlier call dropped, or the welcome and the menu."""
    lang = engine.language(engine.settle_language(profile))
    if resume is not None and resume.state in RESUMABLE and navigation.still_there(resume, lang):
        answer = engine.render(Move(Show.TEXT, Session(State.MENU), engine.settle_language(profile), Event.WELCOME,
                                    lang, lines=(Line.of("ussd_resume"),)))  # fmt: skip
        return _finish(VoiceCall(phone, offer=resume), answer, "(call)", resume)
    answer = engine.answer(Session(), profile, Action(Do.EMPTY))
    return _finish(VoiceCall(phone), answer, "(call)", None)


def turn(engine: VoiceEngine, call: VoiceCall, profile: Profile, digits: str) -> Turn:
    """One press (or none) in a call that has started."""
    pressed = digits.strip()[:8] or "(no key)"
    read = read_key(digits, call, engine, profile)
    profile = engine.settle_language(profile)
    if read is Key.NO_INPUT:
        misses = call.misses + 1
        if misses >= MISSES:
            bye = engine.play(call.session, profile, Event.HINT, (engine.prompt(profile, "goodbye"),))
            return Turn(replace(call, misses=misses, turns=call.turns + 1), bye, pressed, hangup=True,
                        resume=_resumable(call))  # fmt: skip
        again = engine.play(call.session, profile, Event.HINT, (engine.prompt(profile, "no_input"), *call.said))
        return Turn(replace(call, misses=misses, turns=call.turns + 1), again, pressed, resume=_resumable(call))
    if read is Key.REPEAT or read is Key.GARBAGE:
        lead = () if read is Key.REPEAT else (engine.prompt(profile, "unknown"),)
        event = Event.CONTINUED if read is Key.REPEAT else Event.HINT
        answer = engine.play(call.session, profile, event, (*lead, *call.said))
        return Turn(replace(call, misses=0, turns=call.turns + 1), answer, pressed, resume=_resumable(call))
    session = call.session
    if call.offer is not None:
        session = call.offer if read.do is Do.SHOW else Session(State.MENU)
    answer = engine.answer(session, profile, read)
    next_call = VoiceCall(call.phone, answer.session, _said(answer), 0, None, _ended(answer), call.turns + 1)
    return _finish(next_call, answer, pressed, _resumable_session(answer.session))


def _ended(answer: Answer) -> str:
    """After the last tip of a topic, 4 joins that topic (the menu's page keys would not know it)."""
    return answer.topic if answer.event is Event.TOPIC_END else ""


def _said(answer: VoiceAnswer) -> tuple[Clip, ...]:
    return answer.clips[-MAX_SAID:]


def _finish(call: VoiceCall, answer: VoiceAnswer, pressed: str, resume: Session | None) -> Turn:
    call = replace(call, session=answer.session, said=_said(answer))
    return Turn(call, answer, pressed, resume=resume)


def _resumable(call: VoiceCall) -> Session | None:
    return call.offer if call.offer is not None else _resumable_session(call.session)


def _resumable_session(session: Session) -> Session | None:
    return session if session.state in RESUMABLE else None
