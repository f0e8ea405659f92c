"""A family's registration commands in an inbound SMS, end to end, and FORGET.

`turn` answers BABY / PREGNANT / DUE / LOSS / FORGET (bot/registering reads and decides) as
one step of the conversation: the reply is committed with the turn, and the registration
itself is changed right after by a compare-and-set (bot/timed.change), never lost to a
send job that moved the family meanwhile. STOP and danger signs keep their precedence: an
opted-out person or a text describing an emergency goes to the menu engine.

`forget` erases a person: profile, conversation, subscriptions, registrations, invitations,
group memberships, the questions they asked, the WhatsApp messages kept for an SMS fallback; their entries in
the message log stay, for the figures, under an alias.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING

from bot import family, jobs, registering, timed
from bot.content import normalise_keyword
from bot.conversation import Decision
from bot.engine import Engine
from bot.menu import Answer, Event, Profile, Session
from bot.schedule import Registration, Series
from bot.store import Broadcasts, Loaded, Op, Registrations, Write
from bot.store.calls import Calls
from bot.store.fallbacks import Fallbacks
from bot.store.log import redact
from bot.store.questions import Questions

if TYPE_CHECKING:
    from bot.services import Services

FORGET_SECONDS = 600  # FORGET waits this long for its YES
EVENTS = {registering.Ask.LOSS: Event.LOSS, registering.Ask.FORGET: Event.FORGET}


def extra_keys(svc: Services, phone: str) -> list[str]:
    """What `turn` reads with the conversation (in the same round trip)."""
    return [svc.store.keys.forget_pending(phone)]


def turn(svc: Services, engine: Engine, phone: str, text: str, loaded: Loaded, session: Session,
         profile: Profile) -> Decision | None:  # fmt: skip
    """The family's registration command as this turn's decision, or None for the menu engine."""
    profile = engine.settle_language(profile)
    lang = engine.language(profile)
    forget_key = svc.store.keys.forget_pending(phone)
    confirms_forget = bool(loaded.extras.get(forget_key)) and lang.is_command(normalise_keyword(text), "opt_in")
    request = None if confirms_forget else registering.read(text, lang)
    # Most texts are no registration command: they go to the menu before the danger check, which the menu makes too.
    if (not confirms_forget and request is None) or profile.opted_out or lang.is_danger(text):
        return None
    if confirms_forget:
        answer = Answer(Session(), profile, engine.cut(lang.texts["timed_forgotten"], profile), Event.FORGET)
        writes = [Write(forget_key, None), Write(svc.store.keys.session(phone), None)]
        return Decision(answer, writes, text, effects=[lambda: forget(svc, phone)])
    decided = registering.decide(request, timed.today_for(svc, phone), timed.per_week(svc))
    answer = Answer(session, profile, engine.cut(decided.text(lang), profile), EVENTS.get(request.ask,
                    Event.REGISTERED))  # fmt: skip
    writes = [Write(forget_key, {"asked": True}, FORGET_SECONDS) if decided.ask_forget else Write(forget_key, None)]
    effects = [lambda: timed.change(svc, phone, decided.change)] if decided.change else []
    return Decision(answer, writes, text, effects=effects)


def after_menu(svc: Services, phone: str, loaded: Loaded, invite: dict | None, answer: Answer
               ) -> tuple[list[Write], list[Callable[[], None]]]:  # fmt: skip
    """What a menu turn adds: FORGET not confirmed is dropped; a field worker's invitation with a
    registration (REG ... BABY 12-03-2026) registers the family once they said YES themselves."""
    writes, effects = [], []
    forget_key = svc.store.keys.forget_pending(phone)
    if loaded.extras.get(forget_key):
        writes.append(Write(forget_key, None))
    reg = invited_registration(invite)
    if reg is not None and answer.event is Event.INVITE_ACCEPTED:
        effects.append(lambda: register_invited(svc, phone, reg, answer.profile.lang))
    return writes, effects


def invited_registration(invite: Mapping | None) -> Registration | None:
    """The registration a field worker's invitation carries (`series`, `anchor` ISO date), if any."""
    if not invite or not invite.get("series"):
        return None
    try:
        return Registration(Series(invite["series"]), date.fromisoformat(str(invite["anchor"])))
    except (KeyError, ValueError):
        return None


def register_invited(svc: Services, phone: str, reg: Registration, lang_code: str) -> None:
    today = timed.today_for(svc, phone)
    timed.change(svc, phone, lambda f: family.register(f, reg, today))
    lang = svc.catalog.language(lang_code or svc.context.default_lang)
    jobs.enqueue_text(svc, phone, registering.confirmation(reg, timed.per_week(svc)).text(lang), "registered")


def forget(svc: Services, phone: str) -> None:
    """Erase everything kept about `phone`; its log entries stay, for the figures, under an alias."""
    store, k = svc.store, svc.store.keys
    fields = store.profile_fields(phone)
    ops = [Op("DEL", key) for key in (k.profile(phone), k.session(phone), k.invite(phone), k.resume(phone),
                                      k.voice_resume(phone), k.forget_pending(phone))]  # fmt: skip
    ops += [Op("SREM", k.optouts(), phone)]
    ops += [Op("SREM", k.group(g), phone) for g in filter(None, fields.get("groups", "").split(","))]
    for topic in filter(None, fields.get("subs", "").split(",")):
        member = k.subscription_member(phone, topic)
        ops += [Op("ZREM", k.subscriptions_due(), member), Op("HDEL", k.subscription_positions(), member)]
    pipe = store.redis.pipeline(transaction=True)
    for op in ops:
        pipe.execute_command(op.command, op.key, *op.args)
    pipe.execute()
    Registrations(store).erase(phone)  # with the figures by stage it counted in
    Questions(store, int(svc.config["QUESTION_RETENTION_DAYS"])).erase_person(phone)
    Fallbacks(store).erase_person(phone)  # WhatsApp messages kept for an SMS should they be refused
    Calls(store).erase_person(phone)  # tip calls placed to them, and calls of theirs that ended
    Broadcasts(store).erase_recipient(phone)  # ended broadcasts' audiences and recipients' states
    redact(store, phone, f"forgotten-{uuid.uuid4().hex[:12]}")
