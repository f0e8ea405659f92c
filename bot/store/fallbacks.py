"""WhatsApp messages that may still go by SMS: what each said, kept by its gateway id until its report comes.

Twilio can accept a WhatsApp message and report later that it failed (the number is not on
WhatsApp, the template or the window was refused). The message then goes by SMS, once: its
record keeps what it said, and a claim in the record decides which job sends it. A claim is
given back only when the SMS gateway asked us to wait (nothing was sent); a job that died
after claiming leaves it claimed: lost rather than sent twice, like every send we start.

A record keeps the person's number and the text, so each person's records are indexed by
number (gateway ids scored by when they expire): FORGET erases them (`erase_person`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.store import indexed
from bot.store.codec import decoded

if TYPE_CHECKING:
    from bot.store.people import Store

KEEP_SECONDS = 2 * 86_400  # a WhatsApp failure is reported within minutes; later than this, no SMS follows
FIELDS = ("phone", "body", "kind", "topic", "message")  # what reach.py keeps and refusals.py sends

# KEYS: the record. ARGV: the claim's value. Returns the record's fields when this call claimed it,
# {} when it was claimed already, and nil when there is no record (not WhatsApp, or too old).
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
if redis.call('HSETNX', KEYS[1], 'claimed', ARGV[1]) == 0 then return {} end
return redis.call('HGETALL', KEYS[1])
"""


class Fallbacks:
    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, store.keys
        self._claim = store.script(_CLAIM)

    def key(self, provider_id: str) -> str:
        return self.keys.fallback(provider_id)

    def keep(self, provider_id: str, fields: Mapping[str, str], pipe=None) -> None:
        """What a WhatsApp message Twilio accepted said, for an SMS should it fail later (one round trip).

        With `pipe`, the writes are queued on it, to go in the same round trip as the send's record.
        The record joins its person's index, which outlives it; ids already expired leave the index.
        """
        own = pipe is None
        pipe = self.redis.pipeline(transaction=True) if own else pipe
        pipe.hset(self.key(provider_id), mapping={k: fields.get(k, "") for k in FIELDS})
        pipe.expire(self.key(provider_id), KEEP_SECONDS)
        if phone := fields.get("phone", ""):
            indexed.add(pipe, self.keys.fallback_index(phone), provider_id, time.time(), KEEP_SECONDS)
        if own:
            pipe.execute()

    def claim(self, provider_id: str, by: str) -> dict[str, str] | None:
        """The record, if this call is the one to send its SMS; {} when another did; None when there is none."""
        found = self._claim(keys=[self.key(provider_id)], args=[by])
        if found is None:
            return None
        return decoded(dict(zip(found[::2], found[1::2], strict=True)))  # Lua: name, value, name, value...

    def give_back(self, provider_id: str) -> None:
        """The SMS gateway asked us to wait: a retry may claim it again."""
        self.redis.hdel(self.key(provider_id), "claimed")

    def sent(self, provider_id: str, outcome: str) -> None:
        """How the SMS went (the record's last word, for operators)."""
        self.redis.hset(self.key(provider_id), "sms", outcome)

    def get(self, provider_id: str) -> dict[str, str]:
        return decoded(self.redis.hgetall(self.key(provider_id)))

    def erase_person(self, phone: str) -> int:
        """Delete every record kept for `phone` (FORGET); how many ids its index held."""
        return indexed.erase_indexed(self.redis, self.keys.fallback_index(phone), self.key)
