"""POST /sms/twilio: Twilio's inbound-message webhook, answered with TwiML."""

from __future__ import annotations

import logging
import re

import redis
from flask import Blueprint, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot import conversation, phones, services

bp = Blueprint("twilio", __name__, url_prefix="/sms/twilio")
log = logging.getLogger(__name__)

_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")


def called_url() -> str:
    """The URL as Twilio called it: behind a TLS proxy the app sees another scheme and host."""
    base = services.get().config["PUBLIC_BASE_URL"].rstrip("/")
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def signature_ok() -> bool:
    token = services.get().config["TWILIO_AUTH_TOKEN"]
    if not token:
        return True  # development only: create_app refuses production without a token
    signature = request.headers.get("X-Twilio-Signature", "")
    return bool(signature) and RequestValidator(token).validate(called_url(), request.form, signature)


def twiml(parts: tuple[str, ...]) -> Response:
    response = MessagingResponse()
    for part in parts:
        response.message(part)
    return Response(str(response), mimetype="text/xml")


@bp.post("")
def inbound():
    if not signature_ok():
        log.warning("rejected a Twilio webhook with a missing or wrong signature")
        abort(403)
    svc = services.get()
    sid = request.form.get("MessageSid", "").strip()
    phone = phones.normalise(request.form.get("From", ""), svc.config["DEFAULT_REGION"])
    if not _SID.match(sid) or phone is None:
        return Response("MessageSid and a phone number in From are required\n", 400, mimetype="text/plain")
    message = conversation.Inbound(phone, request.form.get("Body", ""), "sms", sid)
    try:
        reply = svc.handle(message)
    except (redis.RedisError, conversation.Busy) as e:
        log.error("could not answer %s: %s", phones.mask(phone), type(e).__name__)
        return twiml((svc.text("apology"),))
    return twiml(reply.parts)
