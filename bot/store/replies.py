"""Replies owed: the parts of a reply sent through the queue, and how many have gone out.

The conversation's commit keeps a reply's parts in the inbound message's dedupe marker
(`Keys.dedupe`): written with the conversation, it is the record that the reply is owed.
The job that sends it counts the parts gone out under `Keys.reply_progress`, moved in the
same step as each send's record (`Sends.record(progress=...)`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.store import codec

if TYPE_CHECKING:
    from bot.store.people import Store


class Replies:
    def __init__(self, store: Store):
        self.redis, self.keys = store.redis, store.keys

    def owed(self, channel: str, message_id: str) -> tuple[tuple[str, ...], int]:
        """The reply's parts and how many were sent already, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self.keys.dedupe(channel, message_id))
        pipe.get(self.keys.reply_progress(channel, message_id))
        raw_parts, sent = pipe.execute()
        return (codec.parts(raw_parts) if raw_parts else ()), int(sent or 0)

    def progress(self, channel: str, message_id: str, sent: int) -> tuple[str, int]:
        """What `Sends.record` moves with a part's send: `sent` parts are out once it is recorded."""
        return self.keys.reply_progress(channel, message_id), sent
