"""USSD's "My pregnancy / my baby" screens: 88 on the topic menu asks for the date.

    88            -> 1 My baby is born / 2 I am pregnant
    1, then date  -> registered (END, and the confirmation by SMS too: it says how to stop)
    2, then date  -> the due date (or the weeks pregnant: 1 or 2 digits)

A wrong date shows its correction and asks again. The screens sit beside the menu engine:
the session's USSD state still counts every input (so 00 and 0 go back to the menu, and a
lost state replays the path), and this flow's own step is kept under `Keys.ussd_timed`, valid
only for the input it was written after.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from bot import jobs, registering, timed, ussd
from bot.conversation import Decision
from bot.menu import Answer, Event, Profile, Session, State
from bot.store import Write

if TYPE_CHECKING:
    from bot.services import Services

ENTRY = "88"
_WEEKS = re.compile(r"^\d{1,2}$")


def key(svc: Services, session_id: str) -> str:
    return svc.store.keys.ussd_timed(session_id)


def turn(svc: Services, state: ussd.UssdState | None, phone: str, path: str, profile: Profile, flow: dict | None,
         state_key: str, flow_key: str) -> Decision | None:  # fmt: skip
    """This request's screen when it belongs to the pregnancy/baby screens, else None (the menu's)."""
    parts = ussd.inputs(path)
    if state is None or state.offer is not None or state.consumed >= len(parts):
        return None  # no state (the menu replays the path), a resume offer, or a repeated request
    new = "*".join(parts[state.consumed :]).strip()
    step = str(flow.get("step", "")) if flow and flow.get("at") == state.consumed else ""
    if new in ussd.FIXED:
        return None  # 00, 0, 99, 77, 98: the menu's, wherever the person is
    if not step and not (new == ENTRY and state.session.state in (State.MENU, State.NEW)):
        return None
    engine = svc.ussd_engine()
    profile = engine.settle_language(profile)
    texts = engine.language(profile).texts
    effects, event, end = [], Event.MENU, False
    if not step or (step == "menu" and new not in ("1", "2")):
        body, step = texts["ussd_timed_menu"], "menu"
    elif step == "menu":
        step = "birth" if new == "1" else "due"
        body = texts["ussd_timed_birth" if step == "birth" else "ussd_timed_due"]
    else:
        ask = registering.Ask.BABY if step == "birth" else (registering.Ask.PREGNANT if _WEEKS.match(new)
                                                             else registering.Ask.DUE)  # fmt: skip
        value = re.sub(r"\s+", "-", new)
        decided = registering.decide(registering.Request(ask, value), timed.today_for(svc, phone), timed.per_week(svc))
        event = Event.REGISTERED
        if decided.change is None:  # a correction, and the question again
            body = f"{decided.text(engine.language(profile))}\n{texts['ussd_timed_' + step]}"
        else:
            body, end, step = decided.text(engine.language(profile)), True, ""
            sms = decided.text(svc.catalog.language(profile.lang))
            effects = [lambda: timed.change(svc, phone, decided.change),
                       lambda: jobs.enqueue_text(svc, phone, sms, "registered")]  # fmt: skip
    screen = ("END " if end else "CON ") + engine.cut(body, profile)[0]
    session = Session(State.MENU) if end else state.session
    moved = replace(state, consumed=len(parts), session=session, screen=screen)
    ttl = svc.config["USSD_SESSION_SECONDS"]
    writes = [Write(state_key, moved.to_dict(), ttl),
              Write(flow_key, {"step": step, "at": len(parts)} if step else None, ttl)]  # fmt: skip
    answer = Answer(session, profile, (screen[4:],), event)
    return Decision(answer, writes, new, screen=screen, effects=effects)
