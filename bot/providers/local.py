"""Providers that send nothing: the console (development) and a JSON-lines recording (tests, demos).

Their message ids are unique across processes, like a gateway's: a send is recorded once per id.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import sys
import time
from collections.abc import Mapping

from bot.phones import mask
from bot.providers.base import Outcome, SendResult


class ConsoleProvider:
    name = "console"

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self._ids = itertools.count(1)

    def send(self, to: str, body: str, meta: Mapping[str, str]) -> SendResult:
        print(f"--- SMS to {mask(to)} ---\n{body}\n", file=self.stream, flush=True)
        return SendResult(Outcome.SENT, provider_id=f"console-{os.getpid()}-{next(self._ids)}")


class RecordProvider:
    """Appends each message as one JSON line; safe with many worker processes appending at once."""

    name = "record"

    def __init__(self, path: str):
        self.path = path

    def send(self, to: str, body: str, meta: Mapping[str, str]) -> SendResult:
        record = {"to": to, "body": body, "channel": "sms", **meta, "time": time.time()}
        if "variables" in record:  # a WhatsApp template's ContentVariables, kept as the object they are
            record["variables"] = json.loads(record["variables"])
        append(self.path, record)
        return SendResult(Outcome.SENT, provider_id=f"record-{os.getpid()}-{time.time_ns()}")


def append(path: str, record: Mapping) -> None:
    """One JSON line at the end of a recording, whole even when several workers write at once."""
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with open(path, "a", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(line)
        f.flush()
        fcntl.flock(f, fcntl.LOCK_UN)


class NullProvider:
    """Accepts everything instantly and sends nothing: for benchmarks of our own path."""

    name = "null"

    def __init__(self):
        self._ids = itertools.count(1)

    def send(self, to: str, body: str, meta: Mapping[str, str]) -> SendResult:
        return SendResult(Outcome.SENT, provider_id=f"null-{os.getpid()}-{next(self._ids)}")
