"""What every provider shares: the interface and what a send says happened (package bot.providers re-exports it).

Its own module so the gateways' modules need not import the package that chooses among them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class Outcome(str, Enum):
    SENT = "sent"  # accepted by the gateway
    RETRY = "retry"  # try again later (rate limit, gateway trouble)
    OPTED_OUT = "opted_out"  # the gateway says this person opted out: stop sending to them
    INVALID = "invalid"  # not a number we can reach: stop sending to it
    FAILED = "failed"  # refused for another reason; do not retry


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_id: str = ""  # the gateway's message id, for delivery reports
    reason: str = ""  # in plain words, for operators
    code: str = ""  # the gateway's error code, when it refused (e.g. Twilio's 63003: not on WhatsApp)


class Provider(Protocol):
    name: str

    def send(self, to: str, body: str, meta: Mapping[str, str]) -> SendResult: ...
