"""An inbound SMS (Twilio, Africa's Talking, `factsbot chat`, the dashboard's simulator), end to end.

One step of the menu for the number, or a registered field worker's command, run through
`conversation.exchange` (two Redis round trips: load, then commit).
"""

from __future__ import annotations

import time
from dataclasses import replace

from bot import conversation, enrol, fieldwork, phones
from bot.conversation import Decision, Inbound, Reply
from bot.menu import Answer, Event, Profile, Session
from bot.services import Services
from bot.store import Loaded, Write
from bot.store.channels import seen_fields
from bot.store.questions import Questions
from bot.whatsapp import WHATSAPP

NO_SESSION = Session()  # a conversation back at its start is not stored


def handle(svc: Services, inbound: Inbound) -> Reply:
    """Run one inbound SMS through the conversation (or a field worker's command)."""
    text = conversation.clean(inbound.text)
    whatsapp = inbound.medium == WHATSAPP
    engine = svc.whatsapp_engine() if whatsapp else svc.sms_engine()
    keys = svc.store.keys
    state_key = keys.session(inbound.phone)
    invite_key, worker_key, pending_key = (keys.invite(inbound.phone), keys.fieldworker(inbound.phone),
                                           keys.pending_broadcast(inbound.phone))  # fmt: skip
    region = phones.country(inbound.phone) or svc.config["DEFAULT_REGION"]
    gathered: dict[fieldwork.Request, fieldwork.Facts] = {}  # read once, however often a race retries

    def field_worker(worker: dict, pending: dict | None, session: Session, profile: Profile) -> Decision | None:
        lang = engine.language(profile)
        request = fieldwork.read_command(text, lang, pending is not None, region)
        if request is None:
            return None
        if request not in gathered:
            gathered[request] = fieldwork.gather(svc, request, worker, inbound.phone)
        asked = fieldwork.Asked(request, worker, pending, inbound.phone, lang, gathered[request],
                                int(svc.config["FIELDWORKER_DAILY_BROADCASTS"]), svc.config["TIMEZONE"])  # fmt: skip
        result = fieldwork.answer_command(asked)
        answer = Answer(session, profile, engine.cut(result.reply, profile), Event.FIELDWORK)
        effects = [lambda effect=effect: fieldwork.carry_out(svc, inbound.phone, effect) for effect in result.effects]
        return Decision(answer, result.writes(pending_key), result.logged or text, effects=effects)

    def decide(loaded: Loaded, profile: Profile) -> Decision:
        decision = turn(loaded, profile)
        return question(decision) if decision.answer.event in (Event.QUESTION, Event.URGENT) else decision

    def question(decision: Decision) -> Decision:
        """A question (or a message describing an emergency) goes to the inbox with the turn that answered it."""
        answer = decision.answer
        doc = Questions.document(inbound.phone, text, answer.profile.lang, inbound.medium,
                                 answer.event is Event.URGENT, time.time())  # fmt: skip
        asked = Questions(svc.store, svc.config["QUESTION_RETENTION_DAYS"]).writes(doc)
        return replace(decision, writes=[*decision.writes, *asked])

    def turn(loaded: Loaded, profile: Profile) -> Decision:
        session = Session.from_dict(loaded.state)
        worker = loaded.extras.get(worker_key)
        if worker:
            decision = field_worker(worker, loaded.extras.get(pending_key), session, profile)
            if decision is not None:
                return decision
        enrolled = enrol.turn(svc, engine, inbound.phone, text, loaded, session, profile)  # BABY, DUE, LOSS, FORGET
        if enrolled is not None:
            return enrolled
        invite = loaded.extras.get(invite_key)
        profile = replace(profile, invite=str(invite.get("group", ""))) if invite else profile
        answer = engine.answer_text(session, profile, text)
        state = None if answer.session == NO_SESSION else answer.session.to_dict()
        writes = [Write(state_key, state, svc.store.session_ttl)]
        if invite and not answer.profile.invite:
            writes.append(Write(invite_key, None))  # answered
        timed_writes, effects = enrol.after_menu(svc, inbound.phone, loaded, invite, answer)
        return Decision(answer, writes + timed_writes, text, effects=effects)

    return conversation.exchange(svc.store, inbound, state_key=state_key, decide=decide,
                                 extra_keys=[invite_key, worker_key, pending_key,
                                             *enrol.extra_keys(svc, inbound.phone)],
                                 marks=seen_fields(inbound.medium, time.time(), whatsapp=whatsapp))  # fmt: skip
