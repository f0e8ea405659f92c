"""Africa's Talking's messaging API (per-recipient results in the JSON body)."""

from __future__ import annotations

from collections.abc import Mapping

import requests

from bot.providers.base import Outcome, SendResult

SENT = {100, 101, 102}
RETRY = {401, 405, 500, 501, 502}  # risk hold, balance, gateway trouble: may pass later
OPTED_OUT = {406}  # UserInBlacklist
INVALID = {403, 404}  # InvalidPhoneNumber, UnsupportedNumberType

REASONS = {
    401: "held by Africa's Talking's risk checks",
    402: "the sender id is not valid",
    403: "not a valid phone number",
    404: "this kind of number cannot receive SMS",
    405: "the account has no balance left",
    406: "the person has blocked messages from this sender",
    407: "no route to this network",
    409: "the number is on a do-not-disturb list",
    500: "Africa's Talking had an internal error",
    501: "the gateway had an error",
    502: "the gateway rejected the message",
}


def post(session: requests.Session, url: str, form: Mapping[str, str]) -> requests.Response | SendResult:
    """Africa's Talking's answer (messages and calls), or a RETRY when it was unreachable, busy or failing."""
    try:
        response = session.post(url, data=form, timeout=10)
    except requests.RequestException as e:
        return SendResult(Outcome.RETRY, reason=f"could not reach Africa's Talking ({type(e).__name__})")
    if response.status_code == 429 or response.status_code >= 500:
        return SendResult(Outcome.RETRY, reason="Africa's Talking is busy or failing")
    return response


class AfricasTalkingProvider:
    name = "africastalking"

    def __init__(self, config: Mapping):
        self.url = config["AT_API_BASE"].rstrip("/") + "/version1/messaging"
        self.username = config["AT_USERNAME"]
        self.sender = config.get("AT_SENDER_ID", "")
        self.session = requests.Session()
        self.session.headers.update({"apiKey": config["AT_API_KEY"], "Accept": "application/json"})

    def send(self, to: str, body: str, meta: Mapping[str, str]) -> SendResult:
        form = {"username": self.username, "to": to, "message": body}
        if self.sender:
            form["from"] = self.sender
        response = post(self.session, self.url, form)
        if isinstance(response, SendResult):
            return response
        try:
            recipients = response.json()["SMSMessageData"]["Recipients"]
            result = next(r for r in recipients if r.get("number") == to) if len(recipients) > 1 else recipients[0]
            status_code = int(result["statusCode"])
        except (ValueError, KeyError, IndexError, TypeError, StopIteration):
            text = response.text[:200].strip()
            return SendResult(Outcome.FAILED, reason=f"unexpected answer: {text}")
        reason = REASONS.get(status_code, str(result.get("status", "")))
        if status_code in SENT:
            return SendResult(Outcome.SENT, provider_id=str(result.get("messageId", "")))
        if status_code in OPTED_OUT:
            return SendResult(Outcome.OPTED_OUT, reason=reason)
        if status_code in INVALID:
            return SendResult(Outcome.INVALID, reason=reason)
        if status_code in RETRY:
            return SendResult(Outcome.RETRY, reason=reason)
        return SendResult(Outcome.FAILED, reason=reason)
