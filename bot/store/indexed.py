"""Records kept by a gateway's id and indexed by the person's number, so FORGET finds them without a scan.

An index is a sorted set of ids scored by when their records expire; whoever keeps a record
adds its id and drops the ids already expired (WhatsApp fallbacks, call records).
"""

from __future__ import annotations

from collections.abc import Callable

import redis


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
