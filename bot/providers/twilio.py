"""Twilio's Messages API through the `twilio` package."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.providers.base import Outcome, SendResult

# Error codes with a meaning for us (twilio.com/docs/api/errors); anything else 4xx fails.
OPTED_OUT = {"21610"}
INVALID = {"21211", "21614", "21217", "21401", "21421"}
RETRY = {"20429", "20500", "20503", "30001"}
# WhatsApp refusals after which the message goes by SMS instead (twilio.com/docs/api/errors):
# the number is not on WhatsApp, or the template (or free text outside the window) was refused.
NOT_ON_WHATSAPP = {"63003", "63024"}
TEMPLATE_REFUSED = {"63016", "63021", "63027", "63028", "63032", "63049"}
BY_SMS_INSTEAD = frozenset(NOT_ON_WHATSAPP | TEMPLATE_REFUSED)

REASONS = {
    "21610": "the person replied STOP to this sender",
    "21211": "not a valid phone number",
    "21614": "not a mobile number",
    "21408": "sending to this country is not enabled on the account",
    "21617": "the message is too long",
    "20429": "too many requests: Twilio asked us to slow down",
    "30003": "the phone is switched off or unreachable",
    "30005": "unknown number, or the SIM is no longer in use",
    "30006": "a landline or a network we cannot reach",
    "30007": "the carrier filtered the message",
    "30008": "the carrier could not say why it failed",
    "63003": "this number is not on WhatsApp",
    "63024": "WhatsApp says this is not a valid recipient",
    "63016": "WhatsApp's 24-hour window had closed: only an approved template may be sent",
    "63021": "WhatsApp refused the content (too long, or not allowed in a template)",
    "63027": "the WhatsApp template does not exist for this language",
    "63028": "the WhatsApp template's variables do not match it",
    "63032": "WhatsApp did not deliver this template to this person (Meta's choice)",
    "63049": "WhatsApp did not deliver this template to this person (Meta's choice)",
}


class TwilioProvider:
    name = "twilio"

    def __init__(self, config: Mapping):
        self.client = client(config)
        self.sender = (
            {"messaging_service_sid": config["TWILIO_MESSAGING_SERVICE_SID"]}
            if config.get("TWILIO_MESSAGING_SERVICE_SID")
            else {"from_": config["TWILIO_FROM"]}
        )
        base = config.get("PUBLIC_BASE_URL", "").rstrip("/")
        self.status_callback = f"{base}/sms/twilio/status" if base else None
        self.whatsapp_sender = {"from_": config.get("TWILIO_WHATSAPP_FROM", "")}
        if config.get("TWILIO_MESSAGING_SERVICE_SID"):  # Content templates go through the Messaging Service
            self.whatsapp_sender["messaging_service_sid"] = config["TWILIO_MESSAGING_SERVICE_SID"]

    def send(self, to: str, body: str, meta: Mapping[str, str]) -> SendResult:
        if meta.get("channel") == "whatsapp":
            kwargs = {"to": f"whatsapp:{to}", **self.whatsapp_sender}
            if meta.get("content_sid"):  # a template: its variables, never a Body (63016 since April 2025)
                kwargs.update(content_sid=meta["content_sid"], content_variables=meta.get("variables", "{}"))
            else:
                kwargs["body"] = body
        else:
            kwargs = {"to": to, "body": body, **self.sender}
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as e:
            return from_error(e)
        except (TwilioException, OSError) as e:  # connection refused, timeout, TLS...
            return SendResult(Outcome.RETRY, reason=f"could not reach Twilio ({type(e).__name__})")
        return SendResult(Outcome.SENT, provider_id=message.sid or "")


def client(config: Mapping) -> Client:
    """A REST client for the account (messages and calls), at TWILIO_API_BASE when set (tests, a mock)."""
    rest = Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], http_client=TwilioHttpClient(timeout=10))
    if config.get("TWILIO_API_BASE"):
        rest.api.base_url = config["TWILIO_API_BASE"].rstrip("/")
    return rest


def from_error(e: TwilioRestException) -> SendResult:
    """What Twilio's refusal (of a message or a call) means for us."""
    code = str(e.code or "")
    reason = REASONS.get(code) or (e.msg or "Twilio refused the message").strip()
    if code in OPTED_OUT:
        return SendResult(Outcome.OPTED_OUT, reason=reason, code=code)
    if code in INVALID:
        return SendResult(Outcome.INVALID, reason=reason, code=code)
    if code in RETRY or e.status == 429 or e.status >= 500:
        return SendResult(Outcome.RETRY, reason=reason, code=code)
    return SendResult(Outcome.FAILED, reason=reason, code=code)


def describe(code: str) -> str:
    """A Twilio error code in plain words, for delivery reports."""
    return REASONS.get(str(code), f"Twilio error {code}" if code else "")
