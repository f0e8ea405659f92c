"""Lua shared by the scripts that log a message, record a send or hear of an opt-out, so they cannot drift.

Every script that changes figures or appends to the log is safe to run twice: redis-py
resends a command after a connection error (when its client retries), and a script that
ran but whose answer was lost would otherwise count twice. Each finds in Redis whether it
already ran: the conversation commit its dedupe marker and the profile's revision, a send
record the message's delivery record (or a `Keys.once` marker when the gateway gave no
id), a broadcast step the recipient's state and the claim its batch run made.
"""

from __future__ import annotations

import os

ONCE_TTL = 600  # seconds a send's once-marker is kept: a client resends within seconds

LOG = """
-- Entries of one person: each added to the log and their index, then both trimmed once.
local function append_logs(log, index, maxlen, minid, ttl_ms, entries)
  for _, entry in ipairs(entries) do
    local id = redis.call('XADD', log, 'MAXLEN', '~', maxlen, '*', unpack(entry))
    redis.call('ZADD', index, tonumber(string.match(id, '^(%d+)')), id)
  end
  redis.call('XTRIM', log, 'MINID', '~', minid)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. minid)
  redis.call('PEXPIRE', index, ttl_ms)
end
local function append_log(log, index, maxlen, minid, ttl_ms, entry)
  append_logs(log, index, maxlen, minid, ttl_ms, {entry})
end
-- No number in it: nothing reads one back (a report finds its broadcast by id), and FORGET could not find it.
local function record_sent(sent, ttl, status, broadcast)
  redis.call('HSET', sent, 'status', status)
  if broadcast ~= '' then redis.call('HSET', sent, 'broadcast', broadcast) end
  redis.call('EXPIRE', sent, ttl)
end
local function opt_out(profile, optouts, phone, now)
  redis.call('HSET', profile, 'opted_out', '1', 'opted_out_at', now)
  redis.call('HINCRBY', profile, 'rev', 1)  -- a message being answered from the old profile must retry
  redis.call('SADD', optouts, phone)
end
"""


def token() -> str:
    """A new token for one call of an idempotent script."""
    return os.urandom(16).hex()  # as random as uuid4's hex, a tenth of its cost (one per message sent)
