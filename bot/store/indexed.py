"""Records kept by a gateway's id and indexed by the person's number, so FORGET finds them without a scan.

An index is a sorted set of ids scored by when their records expire; whoever sets a record's
expiry adds its id with the same expiry and drops the ids already expired (WhatsApp fallbacks,
call records). A script does it with `LUA`'s `index_record`, a pipeline with `add`: the same
three commands, so an index reads the same whichever kept it.
"""

from __future__ import annotations

from collections.abc import Callable

import redis

LUA = """
local function index_record(index, id, now, keep)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. now)
  redis.call('ZADD', index, string.format('%.3f', tonumber(now) + tonumber(keep)), id)
  redis.call('EXPIRE', index, keep)
end
"""


def add(pipe: redis.client.Pipeline, index: str, record_id: str, now: float, keep: int) -> None:
    """Queue `index_record` on a pipeline: `record_id`, kept `keep` seconds from `now`, joins `index`."""
    pipe.zremrangebyscore(index, "-inf", f"({now:.3f}")
    pipe.zadd(index, {record_id: f"{now + keep:.3f}"})
    pipe.expire(index, keep)


def erase_indexed(client: redis.Redis, index: str, record_key: Callable[[str], str]) -> int:
    """Delete every record `index` names and take those ids out of it (two round trips); how many it held.

    Only the ids read are taken out (the index goes when empty): a record kept meanwhile stays findable.
    """
    ids = [i.decode() for i in client.zrange(index, 0, -1)]
    if ids:
        pipe = client.pipeline(transaction=True)
        pipe.delete(*[record_key(i) for i in ids])
        pipe.zrem(index, *ids)
        pipe.execute()
    return len(ids)
