"""Sending one SMS that we start (not a reply in TwiML): opt-out check, shared rate, provider, record.

Used by RQ jobs only, so a slow or failing gateway never holds up a webhook.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from functools import lru_cache

from bot import phones, segments
from bot.phones import mask
from bot.providers import Outcome, Provider, SendResult
from bot.store import LogEntry, Sends, Store

log = logging.getLogger(__name__)


SIMULATED = "a simulator's test number: shown in the dashboard, not sent"


class TransientSendError(Exception):
    """The gateway asked us to try later; RQ's Retry schedules the next attempt."""


def throttle(store: Store, bucket: str, cost: int, mps: float) -> None:
    """Wait until the provider's shared rate allows `cost` more segments; `mps` 0 means no limit."""
    if mps <= 0:
        return
    sends = Sends(store)
    while (wait := sends.take_tokens(bucket, cost, mps)) > 0:
        time.sleep(min(wait, 5.0))


def unreachable(profile: Mapping[str, str]) -> str:
    """ "opted_out", "invalid" (a gateway said no SMS can reach the number) or "", from profile fields."""
    return "opted_out" if profile.get("opted_out") == "1" else "invalid" if profile.get("invalid") == "1" else ""


@lru_cache(maxsize=4096)
def encoded(body: str) -> tuple[str, int]:
    """A body as sent (GSM-7 where it can be) and its segments: cached, as a tick or broadcast sends the
    same few texts to many people."""
    body = segments.smart_encode(body)
    return body, max(segments.count(body).segments, 1)


def deliver(store: Store, provider: Provider, phone: str, body: str, *, mps: float, kind: str,
            meta: Mapping[str, str] | None = None, profile: Mapping[str, str] | None = None,
            progress: tuple[str, int] | None = None, pipe=None) -> SendResult:  # fmt: skip
    """Send `body` to `phone` unless they opted out; record what happened. Raises TransientSendError.

    A reply answers a message the person just sent, and the engine already chose what to say
    (the confirmation of a STOP, HELP while opted out): it goes out whatever the profile says.
    A caller that has just read the person's profile passes it, saving a round trip. A reply
    job passes its `progress` (`Replies.progress`), recorded in the same step as the send. A batch
    passes a `pipe` to record its sends in one round trip (see Sends.record).
    """
    meta = dict(meta or {})
    why_not = "" if kind == "reply" else unreachable(store.profile_fields(phone) if profile is None else profile)
    if why_not == "opted_out":
        return SendResult(Outcome.OPTED_OUT, reason="the person opted out (STOP) before this was sent")
    if why_not == "invalid":
        return SendResult(Outcome.INVALID, reason="an earlier send found no SMS can reach this number")
    body, cost = encoded(body)
    if phones.is_test(phone):
        # A trainer in the simulator who joined a topic sees each tip in its thread, and no gateway is asked.
        entry = LogEntry("out", "simulator", phone, body, kind, meta.get("topic", ""), meta.get("message", ""),
                         parts=str(cost), status="simulated", reason=SIMULATED)  # fmt: skip
        Sends(store).record(phone, entry, "", progress=progress, pipe=pipe)
        return SendResult(Outcome.SENT, reason=SIMULATED)
    throttle(store, provider.name, cost, mps)
    result = provider.send(phone, body, meta)
    if result.outcome is Outcome.RETRY:
        log.warning("send to %s will be retried: %s", mask(phone), result.reason)
        raise TransientSendError(result.reason)
    entry = LogEntry("out", "sms", phone, body, kind, meta.get("topic", ""), meta.get("message", ""),
                     message_id=result.provider_id, parts=str(cost), status=result.outcome.value,
                     reason=result.reason, broadcast=meta.get("broadcast_id", ""))  # fmt: skip
    Sends(store).record(phone, entry, result.provider_id, opted_out=result.outcome is Outcome.OPTED_OUT,
                        invalid=result.outcome is Outcome.INVALID, progress=progress, pipe=pipe)  # fmt: skip
    return result
