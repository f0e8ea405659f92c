"""Africa's Talking: USSD sessions, inbound SMS and delivery reports.

Africa's Talking signs nothing, so callbacks are guarded by a secret token in the URL
(`?token=`, AT_CALLBACK_TOKEN) and optionally by the gateway's addresses (AT_ALLOWED_IPS).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
from functools import lru_cache

import redis
from flask import Blueprint, abort, request

from bot import conversation, jobs, menu, phones, services, settings, sms, ussd, ussd_timed
from bot.channels import caller, plain
from bot.store import Sends, Write

bp = Blueprint("africastalking", __name__)
log = logging.getLogger(__name__)

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
MAX_PATH = 4000  # a USSD path longer than this is not a person typing


@lru_cache(maxsize=16)
def _networks(value: str) -> tuple:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in value.split(",") if item.strip())


@bp.before_request
def guard():
    config = services.get().config
    token = config["AT_CALLBACK_TOKEN"]
    if not token and not config["AT_ALLOWED_IPS"] and not settings.is_development(config):
        # Unsigned callbacks open to anyone could forge messages and opt people out.
        log.error("Africa's Talking callback refused: set AT_CALLBACK_TOKEN (or AT_ALLOWED_IPS) in production")
        abort(403)
    if token and not hmac.compare_digest(request.args.get("token", "").encode(), token.encode()):
        log.warning("rejected an Africa's Talking callback without the right token")
        abort(403)
    allowed = config["AT_ALLOWED_IPS"]
    if allowed:
        try:
            address = ipaddress.ip_address(request.remote_addr or "")
        except ValueError:
            abort(403)
        if not any(address in net for net in _networks(allowed)):
            log.warning("rejected an Africa's Talking callback from an address not allowed")
            abort(403)


@bp.post("/ussd/africastalking")
def ussd_session():
    svc = services.get()
    form = request.form
    found = caller(form, "sessionId", "phoneNumber", _ID, svc.config["DEFAULT_REGION"])
    if found is None:
        return plain("sessionId and phoneNumber are required\n", 400)
    session_id, phone = found
    path = form.get("text", "")
    if len(path) > MAX_PATH:
        return plain("END That was too long. Please dial again.")
    path = conversation.clean(path)
    state_key = svc.store.keys.ussd(session_id)
    resume_key = svc.store.keys.resume(phone)
    timed_key = ussd_timed.key(svc, session_id)  # the "88 My pregnancy/baby" screens
    config = svc.config

    def decide(loaded, profile):
        state = ussd.UssdState.from_dict(loaded.state)
        if state is not None and state.phone != phone:
            raise SessionMismatch(session_id)
        screens = ussd_timed.turn(svc, state, phone, path, profile, loaded.extras.get(timed_key), state_key, timed_key)
        if screens is not None:
            return screens
        saved = loaded.extras.get(resume_key)
        resume = menu.Session.from_dict(saved) if saved else None
        turn = ussd.run(svc.ussd_engine(), state, phone, path, profile, resume)
        writes = [
            Write(state_key, turn.state.to_dict(), config["USSD_SESSION_SECONDS"]),
            Write(resume_key, turn.resume.to_dict() if turn.resume else None, config["USSD_RESUME_SECONDS"]),
        ]
        step = turn.answer if not turn.repeated else menu.Answer(turn.answer.session, profile, (), menu.Event.SILENT)
        effects = []
        if step.event is menu.Event.SEND_SMS:  # queued once the turn is committed, never for a repeat
            effects.append(lambda: jobs.enqueue_key_message(svc, phone, step.topic, step.message))
        return conversation.Decision(step, writes, turn.new_input, log=not turn.repeated, screen=turn.screen,
                                     effects=effects)  # fmt: skip

    try:
        reply = conversation.exchange(svc.store, conversation.Inbound(phone, path, "ussd"), state_key=state_key,
                                      decide=decide, extra_keys=[resume_key, timed_key])  # fmt: skip
    except SessionMismatch:
        return plain("sessionId belongs to another phoneNumber\n", 400)
    except (redis.RedisError, conversation.Busy) as e:
        log.error("USSD for %s failed: %s", phones.mask(phone), type(e).__name__)
        return plain("END " + svc.text("apology"))
    return plain(reply.screen)


class SessionMismatch(Exception):
    pass


@bp.post("/sms/africastalking")
def inbound_sms():
    """An SMS to our Africa's Talking number: the same conversation; replies go out through the queue."""
    svc = services.get()
    form = request.form
    found = caller(form, "id", "from", _ID, svc.config["DEFAULT_REGION"])
    if found is None:
        return plain("id and from are required\n", 400)
    message_id, phone = found
    try:
        inbound = conversation.Inbound(phone, form.get("text", ""), "sms", "at-" + message_id, queued_reply=True)
        reply = sms.handle(svc, inbound)
        if reply.parts:  # a redelivery too: queueing may be what failed the first time (503)
            jobs.enqueue_reply(svc, phone, inbound.channel, inbound.message_id)
    except (redis.RedisError, conversation.Busy) as e:
        log.error("Africa's Talking SMS from %s failed: %s", phones.mask(phone), type(e).__name__)
        return plain("temporarily unavailable\n", 503)  # Africa's Talking will deliver it again
    return plain("OK\n")


@bp.post("/sms/africastalking/delivery")
def delivery_report():
    svc = services.get()
    form = request.form
    message_id = form.get("id", "").strip()
    status = form.get("status", "").strip()
    if not _ID.match(message_id) or not status:
        return plain("id and status are required\n", 400)
    ours = AT_STATUSES.get(status.lower(), "sent")
    reason = form.get("failureReason", "").strip()[:200]
    try:
        Sends(svc.store).record_status(message_id, ours, reason=reason or (status if ours == "failed" else ""))
    except redis.RedisError as e:
        log.error("delivery report not recorded: %s", type(e).__name__)
        return plain("try again\n", 503)  # Africa's Talking retries
    return plain("OK\n")


# Africa's Talking delivery statuses -> ours.
AT_STATUSES = {
    "sent": "sent",
    "submitted": "sent",
    "buffered": "sent",
    "success": "delivered",
    "rejected": "failed",
    "failed": "failed",
    "absentsubscriber": "failed",
    "expired": "failed",
}
