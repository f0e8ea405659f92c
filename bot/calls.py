"""Tips by phone call: placing one (opt-out, quiet hours, the shared call rate, the caller), its end, its retries.

A family that chose voice (VOICE by SMS, or 5 on the voice line) gets each subscription tip
as a call instead of an SMS: a greeting, the key message, why it matters, how to stop, each
a recording where one exists. Calls are placed by workers only, at most VOICE_CPS a second
across all of them, never in quiet hours where the person lives (a call due at night waits in
RQ's scheduler for the morning). A call that was busy or not answered is tried again
VOICE_RETRY_SECONDS later, up to VOICE_CALL_ATTEMPTS in all. The provider's status callbacks
(bot/channels/voice.py) record each call's outcome: answered, heard to the end (the last clip
played), completed (hung up before), busy, no-answer, failed.
"""

from __future__ import annotations

import logging
from collections.abc import Container, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from rq.exceptions import DuplicateJobError

from bot import audio, jobs, outbound, phones, quiet
from bot.audio import Clip, Piece
from bot.providers import Outcome, SendResult
from bot.providers.voice import CallRequest
from bot.render.voice import VoiceRenderer
from bot.store import LogEntry, Sends
from bot.store.calls import Calls

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

RETRIED = frozenset({"busy", "no-answer"})  # the phone was there but nobody took the call: try again later
SIMULATED = "a simulator's test number: shown in the dashboard, not called"
# A timed reminder's id in a call's record and log (as in a timed SMS's): it has no topic.
REMINDER = "reminder_"


def wants_calls(svc: Services, profile: Mapping[str, str]) -> bool:
    """Tips for this person go out as calls: they chose voice, and this deployment has a voice line."""
    return profile.get("delivery") == "voice" and bool(svc.config["VOICE_ENABLED"])


def tip_clips(svc: Services, lang_code: str, topic_id: str, message_id: str) -> tuple[Clip, ...] | None:
    """What a call plays, in the person's language: a tip, or a timed reminder (`reminder_<id>`, no topic).

    None when the key message or the reminder no longer exists.
    """
    lang = svc.catalog.language(lang_code)
    renderer = svc.voice_engine().renderer  # its prompts read once per content read, as the voice line's
    if message_id.startswith(REMINDER):
        clip = audio.reminder_clip(lang, message_id.removeprefix(REMINDER))
        return renderer.reminder_call(clip, lang) if clip else None
    topic = next((t for t in lang.topics if t.id == topic_id), None)
    message = topic.message(message_id) if topic else None
    if message is None:
        return None
    return renderer.tip_call(topic, topic.messages.index(message), lang)


def request_for(svc: Services, phone: str, clips: tuple[Clip, ...], speaks, meta: Mapping[str, str]) -> CallRequest:
    """The call as a caller places it: each clip's recording URL, and what its provider plays."""
    base, cdn = svc.config["PUBLIC_BASE_URL"], svc.config["AUDIO_BASE_URL"]
    found = playable(svc, clips, speaks, base)
    urls = tuple(audio.clip_url(svc.audio, clip, base, cdn) for clip in clips)  # the process's listing
    return CallRequest(phone, clips, urls, tuple(found), base.rstrip("/") + "/voice/twilio/heard", dict(meta))


def playable(svc: Services, clips: Iterable[Clip], speaks: Container[str], base: str) -> list[Piece]:
    """Each clip as a recording's URL or words to say (audio.pieces on the process's listing); logs what is left out."""
    found, missing = audio.pieces(svc.audio, clips, speaks, base, svc.config["AUDIO_BASE_URL"])
    if missing:
        left_out = ", ".join(f"{c.lang}/{c.id}" for c in missing)
        log.warning("voice: no recording and no voice for %s: left out (see factsbot audio status)", left_out)
    return found


def place(svc: Services, phone: str, topic_id: str, message_id: str, *, kind: str, attempt: int = 1,
          now: datetime | None = None, profile: Mapping[str, str] | None = None) -> SendResult:  # fmt: skip
    """Call `phone` with one tip (or timed reminder) unless they opted out; at night, queue it for the morning.

    Raises outbound.TransientSendError when the provider asks us to try later (RQ's Retry does).
    """
    now = now or datetime.now(timezone.utc)
    profile = svc.store.profile_fields(phone) if profile is None else profile
    if profile.get("opted_out") == "1":
        return SendResult(Outcome.OPTED_OUT, reason="the person opted out (STOP) before this call")
    allowed = quiet.allowed_at(svc.config, phone, now)
    if allowed > now:
        enqueue(svc, phone, topic_id, message_id, kind, attempt, at=allowed)
        return SendResult(Outcome.SENT, reason=f"waits for the morning ({allowed:%H:%M} UTC)")
    clips = tip_clips(svc, profile.get("lang", ""), topic_id, message_id)
    if clips is None:
        log.error("%s no longer exists; no call placed", message_id)
        return SendResult(Outcome.FAILED, reason="the key message or reminder no longer exists")
    meta = {"topic": topic_id, "message": message_id, "purpose": kind, "attempt": str(attempt)}
    text = VoiceRenderer().log_text(clips)
    if phones.is_test(phone):
        entry = LogEntry("out", "simulator", phone, text, kind, topic_id, message_id, status="simulated",
                         reason=SIMULATED)  # fmt: skip
        Sends(svc.store).record(phone, entry, "")
        return SendResult(Outcome.SENT, reason=SIMULATED)
    caller = svc.caller
    outbound.throttle(svc.store, f"voice-{caller.name}", 1, float(svc.config["VOICE_CPS"]))
    result = caller.call(request_for(svc, phone, clips, caller.speaks, meta))
    if result.outcome is Outcome.RETRY:
        log.warning("call to %s will be retried: %s", phones.mask(phone), result.reason)
        raise outbound.TransientSendError(result.reason)
    entry = LogEntry("out", "voice", phone, text, kind, topic_id, message_id, message_id=result.provider_id,
                     status=result.outcome.value, reason=result.reason)  # fmt: skip
    if result.provider_id:
        record = {"kind": kind, "topic": topic_id, "message": message_id, "attempt": str(attempt),
                  "provider": caller.name, "lang": profile.get("lang", "")}  # fmt: skip
        Calls(svc.store).placed(result.provider_id, record, [[c.id, c.text, c.lang] for c in clips], entry)
    else:
        Sends(svc.store).record(phone, entry, "", invalid=result.outcome is Outcome.INVALID)
    return result


# -- the queue ------------------------------------------------------------------------------


def enqueue(svc: Services, phone: str, topic_id: str, message_id: str, kind: str, attempt: int = 1, *,
            at: datetime | None = None, after: str = "") -> None:  # fmt: skip
    """Queue one tip call (now, or `at`); a fixed id per tip and attempt, so a repeated request queues it once."""
    job_id = jobs.job_id(svc.config, "call", after or phone, message_id, attempt)
    args = (phone, topic_id, message_id, kind, attempt)
    queue = svc.queue("replies")
    try:
        if at is None:
            queue.enqueue("bot.calls.call_job", *args, job_id=job_id, unique=True, retry=jobs.retry(svc.config))
        else:
            queue.enqueue_at(at, "bot.calls.call_job", *args, job_id=job_id, retry=jobs.retry(svc.config))
    except DuplicateJobError:
        pass  # queued already


def call_job(svc: Services, phone: str, topic_id: str, message_id: str, kind: str, attempt: int) -> str:
    """The RQ job: place one tip call (a retry, a test call, or one that waited for the morning)."""
    return place(svc, phone, topic_id, message_id, kind=kind, attempt=attempt).outcome.value


# -- what the status callbacks say ----------------------------------------------------------


def ended(svc: Services, call_id: str, outcome: str, seconds: int, *, phone: str = "", direction: str = "in") -> str:
    """A call ended: record its outcome once; a tip call that was busy or unanswered is tried again later.

    `phone` and `direction` record a call we did not place (someone calling the line), for the figures.
    """
    done = Calls(svc.store).ended(call_id, outcome, seconds, phone=phone, direction=direction)
    if done is None:
        return "same"
    attempt = int(done["attempt"] or 1)
    if done["outcome"] in RETRIED and done["kind"] and attempt < int(svc.config["VOICE_CALL_ATTEMPTS"]):
        at = datetime.now(timezone.utc) + timedelta(seconds=int(svc.config["VOICE_RETRY_SECONDS"]))
        enqueue(svc, done["phone"], done["topic"], done["message"], done["kind"], attempt + 1, at=at, after=call_id)
        return "retry"
    return done["outcome"]
