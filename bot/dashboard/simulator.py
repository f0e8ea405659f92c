"""The simulator: a phone in the browser that talks to the same engine, as a test number."""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, current_app, jsonify, render_template, request
from flask_login import current_user

from bot import conversation, segments, services, sms
from bot.dashboard.access import Role, protect, requires
from bot.dashboard.privacy import test_number
from bot.store import LogQuery

bp = protect(Blueprint("dashboard_simulator", __name__, url_prefix="/dashboard"))
log = logging.getLogger(__name__)
CHANNEL = "simulator"  # how its messages are logged, so figures and filters can leave them out
HISTORY = 30


def _number() -> str:
    return test_number(current_app.secret_key, current_user.email)


@bp.get("/simulator")
@requires(Role.OPERATOR)
def index():
    phone = _number()
    rows = LogQuery(services.get().store).person(phone, HISTORY)
    return render_template("dashboard/simulator.html", phone=phone, rows=rows)


@bp.post("/api/simulator")
@requires(Role.OPERATOR)
def send():
    data = request.get_json(silent=True) or {}
    text = str(data.get("text", ""))[: conversation.LOG_TEXT_MAX]
    whatsapp = data.get("whatsapp") is True
    if not text.strip():
        return jsonify(error="type a message"), 400
    try:
        medium = "whatsapp" if whatsapp else "sms"
        reply = sms.handle(services.get(), conversation.Inbound(_number(), text, CHANNEL, medium=medium))
    except (redis.RedisError, conversation.Busy) as e:
        log.error("simulator failed: %s", type(e).__name__)
        return jsonify(error="the bot could not answer: try again"), 503
    parts = [{"text": p, **segments.count(p).as_dict()} for p in reply.parts]
    return jsonify(parts=parts, event=reply.event, whatsapp=whatsapp)
