"""POST /sms/twilio: Twilio's inbound-message webhook, answered with TwiML."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urlparse

import redis
from flask import Blueprint, Response, abort, request
from twilio.request_validator import RequestValidator, add_port, compare, remove_port
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.datastructures import MultiDict

from bot import conversation, phones, refusals, services, settings, sms, whatsapp
from bot.channels import caller, plain
from bot.providers.twilio import describe
from bot.store import Sends

bp = Blueprint("twilio", __name__, url_prefix="/sms/twilio")
log = logging.getLogger(__name__)

_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")


def called_url(config: Mapping) -> str:
    """The URL as Twilio called it: behind a TLS proxy the app sees another scheme and host."""
    base = config["PUBLIC_BASE_URL"].rstrip("/")
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def signature_ok(config: Mapping) -> bool:
    """Twilio signed this request with our auth token, for the URL it called."""
    token = config["TWILIO_AUTH_TOKEN"]
    if not token:
        # Only development runs unsigned; a production deployment on Africa's Talking alone
        # has no token, and then this endpoint accepts nobody.
        return settings.is_development(config)
    signature = request.headers.get("X-Twilio-Signature", "")
    fields = signed_fields(request.form)
    return bool(signature) and fields is not None and signed_by(token, called_url(config), fields, signature)


def signed_by(token: str, url: str, fields: MultiDict, signature: str) -> bool:
    """RequestValidator.validate's answer for a form: Twilio signed the URL with or without its port.

    The package computes both signatures on every request; this stops at the first that matches
    (tests compare the two answers).
    """
    validator = _validator(token)
    return any(compare(validator.compute_signature(candidate, fields), signature) for candidate in _candidates(url))


@lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


@lru_cache(maxsize=64)
def _candidates(url: str) -> tuple[str, str]:
    """The URL as Twilio may have signed it: without and with its port (the same few URLs on every request)."""
    parsed = urlparse(url)
    return remove_port(parsed), add_port(parsed)


def signed_fields(form: MultiDict) -> MultiDict | None:
    """The form as Twilio signs it (every name with all its values), or None when no Twilio form looks like it.

    A multipart field whose name werkzeug could not read (a CR or LF inside it) arrives named
    None, and the validator would crash on it: such a request is forged, and refused.
    """
    return form if all(isinstance(name, str) for name in form) else None


def twiml(parts: tuple[str, ...]) -> Response:
    response = MessagingResponse()
    for part in parts:
        response.message(part)
    return Response(str(response), mimetype="text/xml")


@bp.post("")
def inbound():
    svc = services.get()
    if not signature_ok(svc.config):
        log.warning("rejected a Twilio webhook with a missing or wrong signature")
        abort(403)
    posted = request.form  # once: every `request.` goes through Flask's context-local proxy
    # WhatsApp comes to the same webhook, From "whatsapp:+E164": the same person as that number's SMS.
    sender = posted.get("From", "")
    on_whatsapp = whatsapp.is_address(sender)
    form = {"MessageSid": posted.get("MessageSid", ""), "From": whatsapp.number(sender)}
    found = caller(form, "MessageSid", "From", _SID, svc.config["DEFAULT_REGION"])
    if found is None:
        return plain("MessageSid and a phone number in From are required\n", 400)
    sid, phone = found
    if on_whatsapp:
        message = conversation.Inbound(phone, whatsapp.text_of(posted), whatsapp.WHATSAPP, sid,
                                       medium=whatsapp.WHATSAPP)  # fmt: skip
    else:
        message = conversation.Inbound(phone, posted.get("Body", ""), "sms", sid)
    try:
        reply = sms.handle(svc, message)
    except (redis.RedisError, conversation.Busy) as e:
        log.error("could not answer %s: %s", phones.mask(phone), type(e).__name__)
        return twiml((svc.text("apology"),))
    return twiml(reply.parts)


_STATUS = re.compile(r"^[a-z_]{1,32}$")  # Twilio's statuses: queued, sent, delivered, partially_delivered...


@bp.post("/status")
def status_callback():
    """Delivery reports for messages we sent: deduped, and a final status never goes back.

    A WhatsApp message reported refused (not on WhatsApp, template or window) goes by SMS, once.
    """
    svc = services.get()
    if not signature_ok(svc.config):
        abort(403)
    sid = request.form.get("MessageSid", "").strip()
    status = request.form.get("MessageStatus", "").strip().lower()
    if not _SID.match(sid) or not _STATUS.match(status):
        return plain("MessageSid and MessageStatus are required\n", 400)
    failed = status in ("undelivered", "failed")
    code = request.form.get("ErrorCode", "").strip()
    reason = describe(code) if failed else ""
    try:
        Sends(svc.store).record_status(sid, status, reason=reason)
        if failed:
            refusals.refused_later(svc, sid, code)  # a WhatsApp message refused after all: by SMS, once
    except redis.RedisError as e:
        log.error("status callback not recorded: %s", type(e).__name__)
        return plain("try again\n", 503)  # Twilio retries
    return Response("", 204)
