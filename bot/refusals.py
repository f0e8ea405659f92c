"""A WhatsApp message Twilio accepted and then reported refused: it goes by SMS, once, recorded.

Twilio takes a WhatsApp message (201, an id) and reports its fate on the status callback:
63003/63024 (the number is not on WhatsApp) or 63016 and the other template refusals come
there, not in the API's answer. bot/reach.py kept what each accepted message said; the
callback queues one job per message (`refused_later`), and the job claims the record before
the SMS is sent (bot/store/fallbacks.py), so a repeated callback or a rerun job sends nothing
twice, and a message that already went by SMS (refused at once) has no record to claim.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from rq.exceptions import DuplicateJobError

from bot import jobs, outbound, phones, quiet, whatsapp
from bot.providers import Outcome
from bot.providers.twilio import BY_SMS_INSTEAD, NOT_ON_WHATSAPP, describe
from bot.store import LogEntry, Sends
from bot.store.channels import set_channel
from bot.store.fallbacks import Fallbacks

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


def refused_later(svc: Services, provider_id: str, code: str) -> None:
    """A status callback said WhatsApp refused a message it had accepted: queue its SMS (once per message)."""
    if code not in BY_SMS_INSTEAD:
        return
    try:
        svc.queue("replies").enqueue("bot.refusals.later_failure", provider_id, code, unique=True,
                                     job_id=jobs.job_id(svc.config, "wa-fallback", provider_id),
                                     retry=jobs.retry(svc.config))  # fmt: skip
    except DuplicateJobError:
        pass  # Twilio reported it twice (failed, then undelivered): queued already


def later_failure(svc: Services, provider_id: str, code: str) -> str:
    """The RQ job: send by SMS a WhatsApp message that failed after Twilio accepted it, once, and record it.

    A message we kept nothing of (not ours, not WhatsApp, too old) or that already went by SMS
    does nothing; the SMS keeps quiet hours where the person lives, and STOP.
    """
    fallbacks = Fallbacks(svc.store)
    kept = fallbacks.claim(provider_id, f"{time.time():.3f}")
    if not kept:
        return "unknown" if kept is None else "done already"
    phone = kept["phone"]
    now = datetime.now(timezone.utc)
    morning = quiet.allowed_at(svc.config, phone, now)
    if morning > now:
        fallbacks.give_back(provider_id)
        svc.queue("replies").enqueue_at(morning, "bot.refusals.later_failure", provider_id, code,
                                        retry=jobs.retry(svc.config))  # fmt: skip
        return "morning"
    if code in NOT_ON_WHATSAPP:
        set_channel(svc.store, phone, whatsapp.SMS)  # until they write on WhatsApp again
    meta = {"topic": kept["topic"], "message": kept["message"], "fallback": f"whatsapp {code}"}
    try:
        result = outbound.deliver(svc.store, svc.provider, phone, kept["body"], mps=float(svc.config["SMS_MPS"]),
                                  kind=kept["kind"], meta=meta)  # fmt: skip
    except outbound.TransientSendError:
        fallbacks.give_back(provider_id)  # nothing went: RQ's retry claims it again
        raise
    by_sms = "sent by SMS instead" if result.outcome is Outcome.SENT else f"not sent by SMS either: {result.reason}"
    entry = LogEntry("out", whatsapp.WHATSAPP, phone, kept["body"], kept["kind"], kept["topic"], kept["message"],
                     message_id=provider_id, status="failed", reason=f"{describe(code)}; {by_sms}")  # fmt: skip
    Sends(svc.store).record(phone, entry, "")
    fallbacks.sent(provider_id, f"{result.outcome.value} {result.provider_id}".strip())
    log.info("WhatsApp refused a %s to %s later (%s): sent by SMS", kept["kind"], phones.mask(phone), code)
    return result.outcome.value
