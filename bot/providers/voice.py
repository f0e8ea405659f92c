"""Outbound calls: one interface, a caller per gateway, chosen by VOICE_PROVIDER (default: the SMS provider).

A caller places one call that plays a tip's clips and says what happened in a `SendResult`
(provider_id: the call's id, for its status callbacks); like an SMS provider it never retries.
Twilio is handed the TwiML with the call; Africa's Talking asks our voice callback for it when
the phone answers (bot/channels/voice.py replays the clips kept with the call's record).
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.twiml.voice_response import VoiceResponse

from bot import audio
from bot.audio import Clip, Piece
from bot.phones import mask
from bot.providers.africastalking import post as at_post
from bot.providers.base import Outcome, SendResult
from bot.providers.local import append
from bot.providers.twilio import client as twilio_client
from bot.providers.twilio import from_error

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


@dataclass(frozen=True)
class CallRequest:
    """One call to place: to whom, the clips it plays, and where the provider reports back."""

    to: str
    clips: tuple[Clip, ...]
    urls: tuple[str, ...]  # each clip's recording URL, "" where it has none
    pieces: tuple[Piece, ...]  # the clips as this caller plays them (recordings, else its text-to-speech)
    heard_url: str  # fetched once the last clip has played: the call was heard to the end
    meta: Mapping[str, str] = field(default_factory=dict)


class Caller(Protocol):
    name: str
    speaks: frozenset[str]  # languages its text-to-speech can say

    def call(self, request: CallRequest) -> SendResult: ...


def local_id() -> str:
    """A call id for callers that place nothing, shaped like Twilio's (letters and digits)."""
    return "CA" + uuid.uuid4().hex


class TwilioCaller:
    name = "twilio"
    speaks = frozenset(audio.TWILIO_TTS)

    def __init__(self, config: Mapping):
        self.client = twilio_client(config)
        self.sender = config.get("TWILIO_VOICE_FROM") or config["TWILIO_FROM"]
        self.status_callback = config["PUBLIC_BASE_URL"].rstrip("/") + "/voice/twilio/status"

    def call(self, request: CallRequest) -> SendResult:
        try:
            placed = self.client.calls.create(
                to=request.to, from_=self.sender, twiml=str(twiml(request)), status_callback=self.status_callback,
                status_callback_event=STATUS_EVENTS, status_callback_method="POST")  # fmt: skip
        except TwilioRestException as e:
            return from_error(e)
        except (TwilioException, OSError) as e:
            return SendResult(Outcome.RETRY, reason=f"could not reach Twilio ({type(e).__name__})")
        return SendResult(Outcome.SENT, provider_id=placed.sid or "")


def twiml(request: CallRequest) -> VoiceResponse:
    """The tip, then a redirect Twilio follows only if the person is still there: heard to the end."""
    response = play(VoiceResponse(), request.pieces)
    response.redirect(request.heard_url, method="POST")
    return response


def play(target, found):
    """Adds each piece to a TwiML verb (the response, or a Gather): its recording, else Twilio's voice saying it."""
    for piece in found:
        if piece.url:
            target.play(piece.url)
        else:
            language, voice = audio.TWILIO_TTS[piece.lang]
            target.say(piece.text, language=language, voice=voice)
    return target


# Africa's Talking's entry statuses (their voice API docs; not all confirmed against a live account).
AT_INVALID = {"InvalidPhoneNumber", "DestinationNotSupported"}
AT_RETRY = {"InsufficientCredit", "NotSupported"}


class AfricasTalkingCaller:
    name = "africastalking"
    speaks = audio.AT_TTS

    def __init__(self, config: Mapping):
        self.url = config["AT_VOICE_API_BASE"].rstrip("/") + "/call"
        self.username, self.sender = config["AT_USERNAME"], config["AT_VOICE_FROM"]
        self.session = requests.Session()
        self.session.headers.update({"apiKey": config["AT_API_KEY"], "Accept": "application/json"})

    def call(self, request: CallRequest) -> SendResult:
        form = {"username": self.username, "from": self.sender, "to": request.to}
        response = at_post(self.session, self.url, form)
        if isinstance(response, SendResult):
            return response
        try:
            body = response.json()
            entry = body["entries"][0] if body.get("entries") else {}
            status, session_id = str(entry.get("status", "")), str(entry.get("sessionId", ""))
        except (ValueError, KeyError, TypeError, AttributeError):
            return SendResult(Outcome.FAILED, reason=f"unexpected answer: {response.text[:200].strip()}")
        if status == "Queued" and session_id:
            return SendResult(Outcome.SENT, provider_id=session_id)
        reason = status or str(body.get("errorMessage", "")) or "Africa's Talking refused the call"
        if status in AT_INVALID:
            return SendResult(Outcome.INVALID, reason=reason)
        if status in AT_RETRY:
            return SendResult(Outcome.RETRY, reason=reason)
        return SendResult(Outcome.FAILED, reason=reason)


class RecordCaller:
    """Appends each call as one JSON line (`kind: "call"`, the clips with their audio URLs and words)."""

    name = "record"
    speaks = frozenset(audio.TWILIO_TTS)

    def __init__(self, path: str):
        self.path = path

    def call(self, request: CallRequest) -> SendResult:
        call_id = local_id()
        clips = [{"id": c.id, "text": c.text, "lang": c.lang, "url": u} for c, u in zip(request.clips, request.urls,
                                                                                           strict=True)]  # fmt: skip
        line = {"to": request.to, "kind": "call", "clips": clips, **request.meta, "call_id": call_id,
                "time": time.time()}  # fmt: skip
        append(self.path, line)
        return SendResult(Outcome.SENT, provider_id=call_id)


class ConsoleCaller:
    name = "console"
    speaks = frozenset(audio.TWILIO_TTS)

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr

    def call(self, request: CallRequest) -> SendResult:
        said = "\n".join(f"  [{c.id}] {c.text}" for c in request.clips)
        print(f"--- call to {mask(request.to)} ---\n{said}\n", file=self.stream, flush=True)
        return SendResult(Outcome.SENT, provider_id=local_id())


class NullCaller:
    """Accepts every call instantly and places none: for benchmarks of our own path."""

    name = "null"
    speaks = frozenset(audio.TWILIO_TTS)

    def call(self, request: CallRequest) -> SendResult:
        return SendResult(Outcome.SENT, provider_id=local_id())


def from_config(config: Mapping) -> Caller:
    """The caller VOICE_PROVIDER (else SMS_PROVIDER) names."""
    from bot.settings import voice_provider

    name = voice_provider(config)
    if name == "twilio":
        return TwilioCaller(config)
    if name == "africastalking":
        return AfricasTalkingCaller(config)
    if name == "record":
        return RecordCaller(config["SMS_RECORD_PATH"])
    if name == "null":
        return NullCaller()
    if name == "console":
        return ConsoleCaller()
    raise ValueError(f"VOICE_PROVIDER must be twilio, africastalking, console, record or null, not {name!r}")
