"""A message we start (a tip, a broadcast, a reminder, an answer), sent on the person's channel.

A person who last wrote on WhatsApp gets WhatsApp: free text inside the 24-hour window, the
language's approved template outside it (bot/whatsapp.py decides). When WhatsApp refuses
(the number is not on WhatsApp, the template was refused) the message goes by SMS, once,
and both attempts are in the log: at once when Twilio refuses the send, or when a status
callback reports the refusal later (bot/refusals.py). Everyone else, and every reply, goes by
SMS (bot/outbound.py). Used by RQ jobs only, like bot/outbound.py.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot import outbound, phones, whatsapp
from bot.content.whatsapp import Template
from bot.providers import Outcome, SendResult
from bot.providers.twilio import BY_SMS_INSTEAD, NOT_ON_WHATSAPP
from bot.store import LogEntry, Sends
from bot.store.channels import last_channel, set_channel, whatsapp_in
from bot.store.fallbacks import Fallbacks
from bot.whatsapp import Route, Sender

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


def template_for(svc: Services, lang: str, kind: str, name: str = "") -> Template | None:
    """The approved template for this kind of message (or the one `name`d) in `lang`; None: SMS in their language
    beats a foreign frame."""
    name = "" if kind in whatsapp.FREE_TEXT_ONLY else name or whatsapp.template_name(kind)
    return svc.catalog.whatsapp.get(lang or svc.context.default_lang, {}).get(name) if name else None


def route_for(svc: Services, profile: Mapping[str, str], kind: str, now: float,
              template_name: str = "") -> tuple[Route, Template | None]:  # fmt: skip
    template = template_for(svc, profile.get("lang", ""), kind, template_name)
    sender = Sender(last_channel(profile), whatsapp_in(profile), bool(svc.config.get("TWILIO_WHATSAPP_FROM")),
                    template is not None)  # fmt: skip
    return whatsapp.route(sender, now), template


def deliver(svc: Services, phone: str, body: str, *, kind: str, meta: Mapping[str, str] | None = None,
            profile: Mapping[str, str] | None = None, now: float | None = None, template: str = "",
            pipe=None) -> SendResult:  # fmt: skip
    """Send `body` to `phone` on their channel; raises outbound.TransientSendError like outbound.deliver.

    `template` names the WhatsApp template outside the window when the kind alone does not say
    (a timed message is a key message, `tip`, or a reminder, `message`). A batch's `pipe` records
    its SMS in one round trip (outbound.deliver).
    """
    meta = dict(meta or {})
    profile = svc.store.profile_fields(phone) if profile is None else profile
    result, fallback = try_whatsapp(svc, phone, body, kind=kind, meta=meta, profile=profile, now=now,
                                    template=template)  # fmt: skip
    if result is not None:
        return result
    return outbound.deliver(svc.store, svc.provider, phone, body, mps=float(svc.config["SMS_MPS"]), kind=kind,
                            meta={**meta, **fallback}, profile=profile, pipe=pipe)  # fmt: skip


def try_whatsapp(svc: Services, phone: str, body: str, *, kind: str, meta: Mapping[str, str],
                 profile: Mapping[str, str], now: float | None = None,
                 record_sent: bool = True, template: str = "") -> tuple[SendResult | None, dict]:  # fmt: skip
    """Send by WhatsApp if that is the person's route: (its result, {}).

    (None, {}) when they are to get SMS; (None, {"fallback": ...}) when WhatsApp refused it
    (recorded in the log): the caller then sends it by SMS with that in its meta. A broadcast
    records what it sent itself, in its claim's step (`record_sent=False`).
    """
    route, chosen = route_for(svc, profile, kind, time.time() if now is None else now, template)
    if route is Route.SMS or kind == "reply" or phones.is_test(phone) or outbound.unreachable(profile):
        return None, {}  # a simulator's number, or who opted out: outbound.deliver knows what to do
    sent = {**meta, "channel": whatsapp.WHATSAPP}
    if route is Route.TEMPLATE:
        values = chosen.values(text=body, program=svc.context.program)
        sent.update(content_sid=chosen.content_sid, variables=json.dumps(values, ensure_ascii=False))
    outbound.throttle(svc.store, "whatsapp", 1, float(svc.config["SMS_MPS"]))
    result = svc.whatsapp_provider.send(phone, body, sent)
    if result.outcome is Outcome.RETRY:
        raise outbound.TransientSendError(result.reason)
    fall_back = result.outcome is not Outcome.SENT and result.code in BY_SMS_INSTEAD
    reason = f"{result.reason}; sent by SMS instead" if fall_back else result.reason
    entry = LogEntry("out", whatsapp.WHATSAPP, phone, body, kind, meta.get("topic", ""), meta.get("message", ""),
                     message_id=result.provider_id, parts="1", status=result.outcome.value, reason=reason,
                     broadcast=meta.get("broadcast_id", ""))  # fmt: skip
    # The send's record and the text kept for a later refusal go in one round trip.
    pipe = svc.store.redis.pipeline(transaction=False)
    if fall_back or record_sent:
        # Only STOP reaches across channels: a number WhatsApp does not know can still get SMS.
        Sends(svc.store).record(phone, entry, result.provider_id, opted_out=result.outcome is Outcome.OPTED_OUT,
                                pipe=pipe)  # fmt: skip
    if not fall_back and result.outcome is Outcome.SENT and result.provider_id:
        # Accepted is not delivered: a status callback may yet say WhatsApp refused it (bot/refusals.py).
        Fallbacks(svc.store).keep(result.provider_id, {"phone": phone, "body": body, "kind": kind,
                                                       "topic": meta.get("topic", ""),
                                                       "message": meta.get("message", "")}, pipe=pipe)  # fmt: skip
    pipe.execute()
    if not fall_back:
        return result, {}
    if result.code in NOT_ON_WHATSAPP:
        # Until they write on WhatsApp again, their messages go by SMS (their next message sets it back).
        set_channel(svc.store, phone, whatsapp.SMS)
    log.info("WhatsApp refused a %s to %s (%s): sending it by SMS", kind, phones.mask(phone), result.code)
    return None, {"fallback": f"whatsapp {result.code}"}
