"""USSD: the menu engine behind CON/END screens (Africa's Talking's protocol). Pure.

A gateway sends the whole path of a session's inputs joined by `*` ("1*2*98"). With the
session's state we know how many inputs were already acted on, so the rest is the new
input, even when a person typed `*` inside it. Without state (expired, flushed, another
process) the position is rebuilt by replaying the path from the first screen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot import menu
from bot.content import Catalog
from bot.menu import Action, Do, Event, Profile, Session, State

# A path longer than this is not replayed: nobody types 100 choices in 180 seconds.
MAX_REPLAY = 100
RESUMABLE = (State.MESSAGE, State.DETAIL)


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
class Turn:
    """What one USSD request produced."""

    screen: str  # "CON ..." or "END ..."
    state: UssdState
    step: menu.Step
    new_input: str  # what the person typed this time, for the log
    resume: Session | None  # where to offer to continue if this session drops
    repeated: bool = False  # the gateway sent the same request again: nothing new happened


def inputs(path: str) -> list[str]:
    return path.split("*") if path else []


def parse(text: str, session: Session, profile: Profile, catalog: Catalog) -> Action:
    """A USSD input: numbered choices first, then anything an SMS could say."""
    text = text.strip()
    fixed = {"00": Action(Do.MENU), "0": Action(Do.BACK), "98": Action(Do.MORE), "99": Action(Do.OPT_OUT),
             "77": Action(Do.LANGUAGE)}  # fmt: skip
    if text in fixed:
        return fixed[text]
    if not text:
        return Action(Do.EMPTY)
    if text.isdigit():
        if session.state is State.LANGUAGE:
            return menu.parse(text, session, profile, catalog)
        if session.state in RESUMABLE:
            # A numbered option acts even when the screen it was on had more behind 98.
            choice = {"1": Do.WHY if session.state is State.MESSAGE else Do.SHOW, "2": Do.NEXT_TIP, "3": Do.SEND_SMS,
                      "4": Do.JOIN}  # fmt: skip
            return Action(choice[text]) if text in choice else Action(Do.UNKNOWN)
        return Action(Do.NUMBER, int(text[:6]))
    return menu.parse(text, session, profile, catalog)


def run(
    state: UssdState | None,
    phone: str,
    path: str,
    profile: Profile,
    resume: Session | None,
    catalog: Catalog,
    limits: menu.Limits,
    context: menu.Context,
) -> Turn:
    """One USSD request: act on the new input, or replay the path when the state is gone."""
    parts = inputs(path)

    def act(session: Session, profile: Profile, text: str) -> menu.Step:
        return menu.act(session, profile, parse(text, session, profile, catalog), catalog, limits, context)

    if state is not None and state.consumed == len(parts) and state.screen:
        step = menu.Step(state.session, profile, (state.screen[4:],), Event.CONTINUED)
        return Turn(state.screen, state, step, "", _resumable(state.session), repeated=True)
    if state is not None and state.consumed < len(parts):
        new_input = "*".join(parts[state.consumed :])
        if state.offer is not None:
            step = _answer_offer(state.offer, profile, new_input, catalog, limits, context, act)
        else:
            step = act(state.session, profile, new_input)
    elif not parts:
        new_input = ""
        lang = catalog.language(profile.lang or context.default_lang)
        if resume is not None and resume.state in RESUMABLE and menu.still_there(resume, lang):
            step = _offer(resume, profile, catalog, limits, context)
            turn_state = UssdState(phone, 0, Session(State.MENU), "", offer=resume)
            return replace(_finish(turn_state, step, new_input), resume=resume)
        step = menu.act(Session(), profile, Action(Do.EMPTY), catalog, limits, context)
    else:
        # The state is gone: rebuild the position from the first screen.
        new_input = parts[-1]
        if len(parts) > MAX_REPLAY:
            step = menu.act(Session(), profile, Action(Do.MENU), catalog, limits, context)
        else:
            step = menu.act(Session(), profile, Action(Do.EMPTY), catalog, limits, context)
            for text in parts:
                step = act(step.session, step.profile, text)
    return _finish(UssdState(phone, len(parts), step.session), step, new_input)


def _offer(resume: Session, profile, catalog, limits, context) -> menu.Step:
    lang = catalog.language(profile.lang or context.default_lang)
    topic = lang.topic(resume.topic)
    text = lang.texts["ussd_resume"].format(label=topic.label, n=resume.index + 1)
    return menu.Step(Session(State.MENU), profile, (text,), Event.WELCOME)


def _answer_offer(resume, profile, text, catalog, limits, context, act) -> menu.Step:
    if text.strip() == "1":
        return menu.act(resume, profile, Action(Do.SHOW), catalog, limits, context)
    if text.strip() == "2":
        return menu.act(Session(State.MENU), profile, Action(Do.MENU), catalog, limits, context)
    return act(Session(State.MENU), profile, text)


def _finish(state: UssdState, step: menu.Step, new_input: str) -> Turn:
    end = step.event is Event.OPT_OUT
    body = step.parts[0] if step.parts else ""
    screen = ("END " if end else "CON ") + body
    state = replace(state, session=step.session, screen=screen)
    return Turn(screen, state, step, new_input, None if end else _resumable(step.session))


def _resumable(session: Session) -> Session | None:
    return session if session.state in RESUMABLE else None


def limits_for(config) -> dict:
    """The engine's limits for USSD screens: the CON/END prefix counts toward a screen."""
    return {
        "screen": int(config["USSD_MAX_CHARS"]) - 4,
        "screen_ucs2": int(config["USSD_MAX_CHARS_UCS2"]) - 4,
        "texts": "ussd_",
        "silent_when_opted_out": False,
    }
