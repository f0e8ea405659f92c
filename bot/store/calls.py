"""Calls: a record per call we placed (who, what it plays, which attempt, its outcome), and each call's end in the log.

A call is recorded once per provider call id. Its status moves forward only: a final
outcome (completed, heard, busy, no-answer, failed) is written once, with one `call_end`
log entry carrying its duration, however often the provider repeats the callback. A call
we did not place (someone calling the line) gets a record when it ends, for the same reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bot.store import indexed, lua
from bot.store.codec import decoded, flat
from bot.store.log import LogEntry, log_args

if TYPE_CHECKING:
    from bot.store.people import Store

CALL_TTL = 7 * 86_400  # status callbacks and a retry's reading of the record come within hours
FINAL = ("completed", "heard", "busy", "no-answer", "failed")

# KEYS: call record, log, the person's log index, the person's call index.
# ARGV: ttl, maxlen, minid, retention ms, now, call id, n, record fields..., log fields.
# Returns 0 when the call was recorded already (a client's resend).
_PLACED = (
    lua.LOG
    + indexed.LUA
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local n = tonumber(ARGV[7])
local record = {}
for j = 1, n do record[j] = ARGV[7 + j] end
redis.call('HSET', KEYS[1], unpack(record))
redis.call('EXPIRE', KEYS[1], ARGV[1])
index_record(KEYS[4], ARGV[6], ARGV[5], ARGV[1])
local entry = {}
for j = 8 + n, #ARGV do entry[#entry + 1] = ARGV[j] end
append_log(KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[4], entry)
return 1
"""
)

# KEYS: call record, log. ARGV: outcome, seconds, now, log index prefix, maxlen, minid, retention ms,
# phone and direction (for a call we did not place), ttl, call id, call index prefix.
# Returns {'unknown'}, {'same', status}, or {'ended', outcome, phone, kind, topic, message, attempt}.
_ENDED = (
    lua.LOG
    + indexed.LUA
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[8] == '' then return {'unknown'} end
  redis.call('HSET', KEYS[1], 'phone', ARGV[8], 'direction', ARGV[9])
end
local current = redis.call('HGET', KEYS[1], 'status') or ''
local final = {completed = true, heard = true, busy = true, ['no-answer'] = true, failed = true}
if final[current] then return {'same', current} end
local outcome = ARGV[1]
if outcome == 'completed' and redis.call('HGET', KEYS[1], 'heard') == '1' then outcome = 'heard' end
redis.call('HSET', KEYS[1], 'status', outcome, 'seconds', ARGV[2], 'ended_at', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[10])
local f = redis.call('HMGET', KEYS[1], 'phone', 'direction', 'kind', 'topic', 'message', 'attempt')
index_record(ARGV[12] .. f[1], ARGV[11], ARGV[3], ARGV[10])  -- the record lives on from its end: so does its id
local entry = {'direction', f[2] or 'out', 'channel', 'voice', 'phone', f[1],
               'text', 'call ' .. outcome .. ', ' .. ARGV[2] .. ' s', 'event', 'call_end',
               'message_id', ARGV[11], 'status', outcome, 'seconds', ARGV[2]}
if f[4] then entry[#entry + 1] = 'topic'; entry[#entry + 1] = f[4] end
if f[5] then entry[#entry + 1] = 'message'; entry[#entry + 1] = f[5] end
append_log(KEYS[2], ARGV[4] .. f[1], ARGV[5], ARGV[6], ARGV[7], entry)
return {'ended', outcome, f[1], f[3] or '', f[4] or '', f[5] or '', f[6] or '1'}
"""
)

# KEYS: call record. ARGV: status. A status on the way (ringing, answered) never replaces a final one.
_PROGRESS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local current = redis.call('HGET', KEYS[1], 'status') or ''
local final = {completed = true, heard = true, busy = true, ['no-answer'] = true, failed = true}
if final[current] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
return 1
"""

# KEYS: call record. The last clip played: a call that already ended as completed was heard to the end.
_HEARD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'heard', '1')
if redis.call('HGET', KEYS[1], 'status') == 'completed' then redis.call('HSET', KEYS[1], 'status', 'heard') end
return 1
"""


class Calls:
    """Records of the calls we place, and the end of every call."""

    def __init__(self, store: Store):
        self.store, self.redis, self.keys = store, store.redis, store.keys
        self._placed = store.script(_PLACED)
        self._ended = store.script(_ENDED)
        self._progress = store.script(_PROGRESS)
        self._heard = store.script(_HEARD)

    def placed(self, call_id: str, record: Mapping[str, str], clips: Sequence[Sequence[str]], entry: LogEntry) -> bool:
        """A call the provider accepted, and its log entry, in one step; False if it was recorded already."""
        fields = flat({**record, "phone": entry.phone, "direction": "out", "status": "placed",
                       "clips": json.dumps(clips, ensure_ascii=False), "placed_at": f"{time.time():.3f}"})  # fmt: skip
        now = time.time()
        keys = [self.keys.call(call_id), self.keys.log(), self.keys.log_index(entry.phone),
                self.keys.call_index(entry.phone)]  # fmt: skip
        args = [CALL_TTL, *log_args(self.store, now), f"{now:.3f}", call_id, len(fields), *fields,
                *flat(entry.fields())]  # fmt: skip
        return bool(self._placed(keys=keys, args=args))

    def get(self, call_id: str) -> dict[str, str]:
        return decoded(self.redis.hgetall(self.keys.call(call_id)))

    def erase_person(self, phone: str) -> int:
        """Delete every call record kept for `phone` (FORGET); how many ids its index held."""
        return indexed.erase_indexed(self.redis, self.keys.call_index(phone), self.keys.call)

    def clips(self, record: Mapping[str, str]) -> list[list[str]]:
        """A record's clips as [id, text, lang]."""
        try:
            found = json.loads(record.get("clips") or "[]")
        except ValueError:
            return []
        return [c for c in found if isinstance(c, list) and len(c) == 3]

    def progress(self, call_id: str, status: str) -> bool:
        return bool(self._progress(keys=[self.keys.call(call_id)], args=[status]))

    def heard(self, call_id: str) -> bool:
        return bool(self._heard(keys=[self.keys.call(call_id)]))

    def ended(self, call_id: str, outcome: str, seconds: int, *, phone: str = "", direction: str = "in") -> dict | None:
        """A call's end, recorded once: what ended (outcome, phone, kind, topic, message, attempt), or None.

        None for a repeated callback, or for an unknown call when no `phone` is given.
        """
        now = time.time()
        args = [outcome, max(seconds, 0), f"{now:.3f}", self.keys.log_index(""), *log_args(self.store, now), phone,
                direction, CALL_TTL, call_id, self.keys.call_index("")]  # fmt: skip
        found = [x.decode() if isinstance(x, bytes) else x for x in
                 self._ended(keys=[self.keys.call(call_id), self.keys.log()], args=args)]  # fmt: skip
        if found[0] != "ended":
            return None
        names = ("outcome", "phone", "kind", "topic", "message", "attempt")
        return dict(zip(names, found[1:], strict=True))
