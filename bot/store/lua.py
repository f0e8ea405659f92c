"""Lua shared by the scripts that log a message, record a send or hear of an opt-out, so they cannot drift.

Every script that changes figures or appends to the log is made safe to run twice: redis-py
resends a command after a connection error, and a script that ran but whose answer was lost
would otherwise count twice. Such a script takes a token (new for each call, the same in the
client's resend) and keeps its answer under `Keys.once(token)`: a second run returns that
answer and changes nothing. The conversation commit needs no token: its dedupe marker and
profile revision already make a second run a no-op.
"""

from __future__ import annotations

import uuid

ONCE_TTL = 3600  # seconds a script's answer is kept for a resend: a client resends within seconds

# ONCE: call first with the once key; returns the kept answer (a table) or nil.
# ANSWER: keeps the answer (a flat table of strings) and returns it.
ONCE = """
local function once_answer(key)
  local kept = redis.call('LRANGE', key, 0, -1)
  if #kept > 0 then return kept end
  return nil
end
local function answer(key, ttl, ...)
  local reply = {...}
  redis.call('RPUSH', key, unpack(reply))
  redis.call('EXPIRE', key, ttl)
  return reply
end
"""

LOG = """
local function append_log(log, index, maxlen, minid, ttl_ms, entry)
  local id = redis.call('XADD', log, 'MAXLEN', '~', maxlen, '*', unpack(entry))
  redis.call('ZADD', index, tonumber(string.match(id, '^(%d+)')), id)
  redis.call('XTRIM', log, 'MINID', '~', minid)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. minid)
  redis.call('PEXPIRE', index, ttl_ms)
end
local function record_sent(sent, ttl, phone, status, broadcast)
  redis.call('HSET', sent, 'phone', phone, 'status', status)
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
    return uuid.uuid4().hex
