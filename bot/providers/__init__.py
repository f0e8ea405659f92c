"""Outbound SMS: one interface, a provider per gateway, chosen by SMS_PROVIDER.

A provider sends one text to one number and says what happened in a `SendResult`;
it never retries (the job that called it decides) and never raises for an answer the
gateway gave: only for a transport failure worth retrying (`TransientError`).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.providers.base import Outcome, Provider, SendResult

__all__ = ["Outcome", "Provider", "SendResult", "from_config"]


def from_config(config: Mapping) -> Provider:
    """The provider SMS_PROVIDER names."""
    from bot.settings import PROVIDERS, sms_provider

    name = sms_provider(config)
    if name == "twilio":
        from bot.providers.twilio import TwilioProvider

        return TwilioProvider(config)
    if name == "africastalking":
        from bot.providers.africastalking import AfricasTalkingProvider

        return AfricasTalkingProvider(config)
    if name == "record":
        from bot.providers.local import RecordProvider

        return RecordProvider(config["SMS_RECORD_PATH"])
    if name == "null":
        from bot.providers.local import NullProvider

        return NullProvider()
    if name == "console":
        from bot.providers.local import ConsoleProvider

        return ConsoleProvider()
    raise ValueError(f"SMS_PROVIDER must be one of {', '.join(PROVIDERS)}, not {name!r}")
