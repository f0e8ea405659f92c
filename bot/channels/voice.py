"""The voice line's edges: Twilio's and Africa's Talking's call webhooks, and the recordings they play.

Both run one turn of bot/voice.py through `conversation.exchange` (two Redis round trips)
and answer in their provider's XML. Tip calls we place (bot/calls.py) report here too: Twilio's
status callbacks and the redirect after a tip's last clip (heard to the end); Africa's Talking
asks the same callback what to play when the phone answers, and posts the call's end to it.
Answers are TwiML from the `twilio` package, Africa's Talking's
built with xml.etree. A clip plays its recording (or placeholder) where one exists, else is
spoken by the provider's text-to-speech where it has a voice for the language, else is left
out (`factsbot audio status` lists it as missing; `factsbot content check` fails on it).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Container, Sequence
from xml.etree import ElementTree

import redis
from flask import Blueprint, Response, abort, request, send_from_directory
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot import audio, calls, conversation, jobs, phones, services, voice
from bot.audio import Clip, Piece
from bot.channels import africastalking, caller, plain, twilio
from bot.menu import Event, Session
from bot.providers.voice import play
from bot.store import Write
from bot.store.calls import FINAL, Calls

bp = Blueprint("voice", __name__)
log = logging.getLogger(__name__)

CALL_SECONDS = 2 * 3600  # a call's state outlives any call
GATHER_SECONDS = 6  # how long a caller has to press a key after a prompt
_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
_AT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_FILE = re.compile(r"^[a-z0-9][a-z0-9-]{0,120}\.(mp3|wav)$")


@bp.before_request
def enabled():
    if not services.get().config["VOICE_ENABLED"]:
        abort(404)


class CallMismatch(Exception):
    """A call id arrived with another caller's number."""


# -- one turn, whatever the provider ------------------------------------------------------------


def run(svc, provider: str, call_id: str, phone: str, digits: str) -> voice.Turn:
    """One request of a call: load, decide, commit (2 round trips), then queue an SMS the caller asked for."""
    keys = svc.store.keys
    state_key, resume_key = keys.voice_call(provider, call_id), keys.voice_resume(phone)
    eng = svc.voice_engine()
    turns: list[voice.Turn] = []

    def decide(loaded, profile):
        call = voice.VoiceCall.from_dict(loaded.state)
        if call is not None and call.phone != phone:
            raise CallMismatch(call_id)
        if call is None:
            saved = loaded.extras.get(resume_key)
            t = voice.start(eng, phone, profile, Session.from_dict(saved) if saved else None)
        else:
            t = voice.turn(eng, call, profile, digits)
        turns.append(t)
        writes = [
            Write(state_key, t.call.to_dict(), CALL_SECONDS),
            Write(resume_key, t.resume.to_dict() if t.resume else None, svc.config["VOICE_RESUME_SECONDS"]),
        ]
        effects = []
        answer = t.answer
        if answer.event is Event.SEND_SMS:
            effects.append(lambda: jobs.enqueue_key_message(svc, phone, answer.topic, answer.message))
        return conversation.Decision(answer, writes, t.pressed, effects=effects)  # fmt: skip

    conversation.exchange(svc.store, conversation.Inbound(phone, digits, "voice"), state_key=state_key,
                          decide=decide, extra_keys=[resume_key])  # fmt: skip
    return turns[-1]


def pieces(svc, clips: Sequence[Clip], speaks: Container[str]) -> list[Piece]:
    """Each clip as a recording's URL or words to say; consecutive words in one language are said at once."""
    return calls.playable(svc, clips, speaks, svc.config["PUBLIC_BASE_URL"] or request.host_url)


def _answer(svc, provider: str, call_id: str, phone: str, digits: str):
    try:
        return run(svc, provider, call_id, phone, digits)
    except (redis.RedisError, conversation.Busy) as e:
        log.error("voice call of %s failed: %s", phones.mask(phone), type(e).__name__)
        return None


def _apology(svc, phone: str) -> list[Clip]:
    eng = svc.voice_engine()
    lang = svc.context.first_language(phones.country(phone) or "")
    return [eng.renderer.say(eng.catalog.language(lang).code, "apology")]


# -- Twilio ---------------------------------------------------------------------------------------


@bp.post("/voice/twilio")
def twilio_call():
    svc = services.get()
    if not twilio.signature_ok(svc.config):
        log.warning("rejected a Twilio voice webhook with a missing or wrong signature")
        abort(403)
    found = caller(request.form, "CallSid", "From", _SID, svc.config["DEFAULT_REGION"])
    if found is None:
        return plain("CallSid and a phone number in From are required\n", 400)
    sid, phone = found
    try:
        t = _answer(svc, "twilio", sid, phone, request.form.get("Digits", ""))
    except CallMismatch:
        return plain("CallSid belongs to another number\n", 400)
    if t is None:
        return twiml(pieces(svc, _apology(svc, phone), audio.TWILIO_TTS), hangup=True)
    return twiml(pieces(svc, t.answer.clips, audio.TWILIO_TTS), hangup=t.hangup)


def twiml(found: list[Piece], hangup: bool) -> Response:
    response = VoiceResponse()
    # No input: Twilio posts to the action anyway (actionOnEmptyResult), with empty Digits.
    target = response
    if not hangup:
        target = Gather(input="dtmf", num_digits=1, timeout=GATHER_SECONDS, action=request.path, method="POST",
                        action_on_empty_result=True)  # fmt: skip
    play(target, found)
    if hangup:
        response.hangup()
    else:
        response.append(target)
    return Response(str(response), mimetype="text/xml")


# -- Africa's Talking -------------------------------------------------------------------------------


@bp.post("/voice/africastalking")
def africastalking_call():
    africastalking.guard()  # the same token and address checks as its SMS and USSD callbacks
    svc = services.get()
    form = request.form
    found = caller(form, "sessionId", "callerNumber", _AT_ID, svc.config["DEFAULT_REGION"])
    if found is None:
        return plain("sessionId and callerNumber are required\n", 400)
    session_id, phone = found
    outbound = form.get("direction", "").strip().lower().startswith("out")  # a tip call we placed
    record: dict[str, str] = {}
    try:
        if form.get("isActive", "1").strip() == "0":
            # The call's final notification: nothing left to play; its outcome and length are recorded.
            calls.ended(svc, session_id, at_outcome(form), _seconds(form.get("durationInSeconds")), phone=phone,
                        direction="out" if outbound else "in")  # fmt: skip
            return at_xml([], hangup=True)
        if request.args.get("heard") == "1":  # the tip call's last clip has played
            Calls(svc.store).heard(session_id)
            return at_xml([], hangup=True)
        if outbound:
            record = Calls(svc.store).get(session_id)
    except redis.RedisError as e:
        log.error("voice callback not recorded: %s", type(e).__name__)
        return plain("try again\n", 503)
    if record.get("direction") == "out":  # a tip call we placed, answered: play the tip
        return at_tip_xml(pieces(svc, [Clip(*c) for c in Calls(svc.store).clips(record)], audio.AT_TTS))
    try:
        t = _answer(svc, "africastalking", session_id, phone, form.get("dtmfDigits", ""))
    except CallMismatch:
        return plain("sessionId belongs to another number\n", 400)
    if t is None:
        return at_xml(pieces(svc, _apology(svc, phone), audio.AT_TTS), hangup=True)
    return at_xml(pieces(svc, t.answer.clips, audio.AT_TTS), hangup=t.hangup)


def at_callback_url() -> str:
    base = services.get().config["PUBLIC_BASE_URL"].rstrip("/") or request.host_url.rstrip("/")
    token = request.args.get("token", "")
    return f"{base}{request.path}" + (f"?token={token}" if token else "")


def at_xml(found: list[Piece], hangup: bool) -> Response:
    root = ElementTree.Element("Response")
    url = at_callback_url()
    target = root if hangup else ElementTree.SubElement(root, "GetDigits", timeout=str(GATHER_SECONDS),
                                                        finishOnKey="#", numDigits="1", callbackUrl=url)  # fmt: skip
    at_play(target, found)
    if not hangup:
        # GetDigits with no key moves on without calling back: come back with no digits (= no input).
        ElementTree.SubElement(root, "Redirect").text = url
    # Without a following action the call ends, which is the goodbye's hang-up.
    return at_response(root)


def at_tip_xml(found: list[Piece]) -> Response:
    """A tip call: its clips, then back to us (only if the person is still there): heard to the end."""
    root = at_play(ElementTree.Element("Response"), found)
    url = at_callback_url()
    ElementTree.SubElement(root, "Redirect").text = url + ("&" if "?" in url else "?") + "heard=1"
    return at_response(root)


def at_play(target: ElementTree.Element, found: list[Piece]) -> ElementTree.Element:
    """Adds each piece to an element: its recording, else Africa's Talking's voice saying it."""
    for piece in found:
        if piece.url:
            ElementTree.SubElement(target, "Play", url=piece.url)
        else:
            ElementTree.SubElement(target, "Say").text = piece.text
    return target


def at_response(root: ElementTree.Element) -> Response:
    body = ElementTree.tostring(root, encoding="unicode", xml_declaration=False)
    return Response('<?xml version="1.0" encoding="UTF-8"?>' + body, mimetype="application/xml")


# Africa's Talking's hang-up causes (SIP-style names; from their voice docs and forum answers, unconfirmed
# against a live account): a declined call counts as busy, as Twilio reports it.
AT_BUSY = {"USER_BUSY", "CALL_REJECTED"}
AT_NO_ANSWER = {"NO_ANSWER", "NO_USER_RESPONSE", "ORIGINATOR_CANCEL"}


def at_outcome(form) -> str:
    cause = form.get("hangupCause", "").strip().upper()
    if cause in AT_BUSY:
        return "busy"
    if cause in AT_NO_ANSWER:
        return "no-answer"
    answered = _seconds(form.get("durationInSeconds")) > 0 or form.get("status", "").strip() == "Success"
    return "completed" if answered else "failed"


def _seconds(value: str | None) -> int:
    try:
        return max(int(float(value or 0)), 0)
    except ValueError:
        return 0


# -- Twilio's reports on calls ----------------------------------------------------------------------

# Twilio's CallStatus -> what we record. Final: completed, busy, no-answer, failed (canceled: failed).
TWILIO_OUTCOMES = {"queued": "", "initiated": "", "ringing": "ringing", "in-progress": "answered",
                   "answered": "answered", "completed": "completed", "busy": "busy", "no-answer": "no-answer",
                   "failed": "failed", "canceled": "failed"}  # fmt: skip


@bp.post("/voice/twilio/status")
def twilio_status():
    """Status callbacks of calls (ours, and the line's when the number is set to send them): outcome, minutes."""
    svc, form = services.get(), request.form
    if not twilio.signature_ok(svc.config):
        log.warning("rejected a Twilio call status callback with a missing or wrong signature")
        abort(403)
    sid, status = form.get("CallSid", "").strip(), form.get("CallStatus", "").strip().lower()
    if not _SID.match(sid) or status not in TWILIO_OUTCOMES:
        return plain("CallSid and CallStatus are required\n", 400)
    outcome = TWILIO_OUTCOMES[status]
    inbound = form.get("Direction", "").strip() == "inbound"
    phone = phones.normalise(form.get("From" if inbound else "To", ""), svc.config["DEFAULT_REGION"]) or ""
    try:
        if outcome in FINAL:
            calls.ended(svc, sid, outcome, _seconds(form.get("CallDuration")), phone=phone,
                        direction="in" if inbound else "out")  # fmt: skip
        elif outcome:
            Calls(svc.store).progress(sid, outcome)
    except redis.RedisError as e:
        log.error("call status not recorded: %s", type(e).__name__)
        return plain("try again\n", 503)  # Twilio retries
    return Response("", 204)


@bp.post("/voice/twilio/heard")
def twilio_heard():
    """A tip call's TwiML redirects here after its last clip: the person heard it to the end. Then it hangs up."""
    svc = services.get()
    if not twilio.signature_ok(svc.config):
        abort(403)
    sid = request.form.get("CallSid", "").strip()
    if _SID.match(sid):
        try:
            Calls(svc.store).heard(sid)
        except redis.RedisError as e:
            log.error("call heard not recorded: %s", type(e).__name__)
    response = VoiceResponse()
    response.hangup()
    return Response(str(response), mimetype="text/xml")


# -- recordings ---------------------------------------------------------------------------------------


@bp.get("/audio/<lang>/<name>")
def recording(lang: str, name: str):
    return _send(lang, name, placeholder=False)


@bp.get("/audio/<lang>/placeholder/<name>")
def placeholder(lang: str, name: str):
    return _send(lang, name, placeholder=True)


def _send(lang: str, name: str, placeholder: bool):
    svc = services.get()
    if lang not in svc.catalog.languages or not _FILE.match(name):
        abort(404)
    library = svc.audio
    directory = library.placeholders / lang if placeholder else audio.audio_dir(library.content_dir, lang)
    # Recordings change only with a release; placeholders whenever someone renders them again.
    return send_from_directory(directory, name, max_age=300 if placeholder else 86_400, etag=True, conditional=True)
