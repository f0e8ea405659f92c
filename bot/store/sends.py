"""Outbound messages: what each send did (log, delivery record, opt-out), delivery reports, the shared rate."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bot.store import lua
from bot.store.codec import flat
from bot.store.log import LogEntry, log_args

if TYPE_CHECKING:
    from bot.store.people import Store

SENT_TTL = 7 * 86_400  # delivery reports can arrive days late

# An outbound SMS and what the gateway said, once however often the client resends it: a
# message the gateway gave an id is recorded once its delivery record exists; one without
# an id (refused, simulated) leaves a short-lived once-marker instead.
# KEYS: log, log index, sent (or the index when there is no provider id), profile, optouts,
#       once, reply progress (or the once key when this send is not part of a queued reply).
# ARGV: maxlen, minid, retention ms, sent ttl, phone, provider id, status, broadcast,
#       o (opted out) v (invalid) or '', now, once ttl, parts sent (or ''), progress ttl, log fields...
_SEND = (
    lua.LOG
    + """
if ARGV[6] ~= '' then
  if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
elseif not redis.call('SET', KEYS[6], '1', 'NX', 'EX', ARGV[11]) then
  return 0
end
local entry = {}
for j = 14, #ARGV do entry[#entry + 1] = ARGV[j] end
append_log(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], entry)
if ARGV[6] ~= '' then record_sent(KEYS[3], ARGV[4], ARGV[7], ARGV[8]) end
if ARGV[9] == 'o' then opt_out(KEYS[4], KEYS[5], ARGV[5], ARGV[10]) end
if ARGV[9] == 'v' then redis.call('HSET', KEYS[4], 'invalid', '1') end
if ARGV[12] ~= '' and tonumber(redis.call('GET', KEYS[7]) or '0') < tonumber(ARGV[12]) then
  redis.call('SET', KEYS[7], ARGV[12], 'EX', ARGV[13])
end
return 1
"""
)

# KEYS: bucket. ARGV: rate (tokens per second), capacity, cost. Returns 0, or ms to wait.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, capacity, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or capacity
local ts = tonumber(b[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate / 1000)
local wait = 0
if tokens >= cost then tokens = tokens - cost else wait = math.ceil((cost - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
return wait
"""

# KEYS: sent:<id>. ARGV: status, reason, now, the broadcast keys' prefix. Reports arrive out
# of order: a final status (delivered, failed, undelivered) is never replaced by a later
# non-final one. A broadcast message moves its broadcast's figures in the same step; the
# broadcast's key is only known here, from the sent record (fine on one Redis, not a cluster).
# Run twice with the same status, the second run finds it "same": figures move once.
_STATUS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
local current = redis.call('HGET', KEYS[1], 'status') or ''
local broadcast = redis.call('HGET', KEYS[1], 'broadcast') or ''
local final = {delivered = true, failed = true, undelivered = true}
if final[current] and not final[ARGV[1]] then return 'kept' end
if current == ARGV[1] then return 'same' end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'status_at', ARGV[3])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'reason', ARGV[2]) end
if broadcast ~= '' then
  local figure = {delivered = 'delivered', undelivered = 'undelivered', failed = 'undelivered'}
  if figure[current] then redis.call('HINCRBY', ARGV[4] .. broadcast, figure[current], -1) end
  if figure[ARGV[1]] then redis.call('HINCRBY', ARGV[4] .. broadcast, figure[ARGV[1]], 1) end
end
return 'updated'
"""


class Sends:
    """Records of the SMS we send, and the rate every worker shares."""

    def __init__(self, store: Store):
        self.store, self.redis, self.keys = store, store.redis, store.keys
        self._send = store.script(_SEND)
        self._take = store.script(_TAKE)
        self._status = store.script(_STATUS)

    def take_tokens(self, bucket: str, cost: int, rate: float) -> float:
        """Draw `cost` segments from a shared bucket; return 0, or the seconds to wait first."""
        return int(self._take(keys=[self.keys.rate(bucket)], args=[rate, max(rate, cost), cost])) / 1000

    def record(self, phone: str, entry: LogEntry, provider_id: str, *, opted_out: bool = False,
               invalid: bool = False, progress: tuple[str, int] | None = None, token: str = "",
               pipe=None) -> None:  # fmt: skip
        """Log an outbound SMS and what the gateway said, in one round trip, once.

        With `pipe` (a non-transactional pipeline), the step is queued on it: a batch's records share
        one round trip (an opt-out still goes at once, replicated).

        `progress` (a reply's progress key, parts sent with this one) moves in the same step,
        so a reply job never records a part as sent that was not, nor forgets one that was.
        """
        k, now = self.keys, time.time()
        flag = "o" if opted_out else "v" if invalid else ""
        once = k.once(token or lua.token())
        keys = [k.log(), k.log_index(phone), k.sent(provider_id) if provider_id else k.log_index(phone),
                k.profile(phone), k.optouts(), once, progress[0] if progress else once]  # fmt: skip
        args = [*log_args(self.store, now), SENT_TTL, phone, provider_id, entry.status or "sent", entry.broadcast,
                flag, f"{now:.3f}", lua.ONCE_TTL, progress[1] if progress else "", self.store.dedupe_ttl,
                *flat(entry.fields())]  # fmt: skip
        if opted_out:
            self.store.replicated.run(self._send, keys, args)  # an opt-out must survive a failover
        else:
            self._send(keys=keys, args=args, client=pipe)

    def record_status(self, provider_id: str, status: str, *, reason: str = "") -> None:
        """A delivery report, and its broadcast's figures, in one atomic step.

        A report for a message we do not know is ignored, and a final status never goes back.
        """
        self._status(keys=[self.keys.sent(provider_id)],
                     args=[status, reason, f"{time.time():.3f}", self.keys.broadcast_prefix()])  # fmt: skip
