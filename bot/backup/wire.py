"""Many commands in one round trip without redis-py's per-command cost.

redis-py's pipeline spends ~20 us a command in Python (packing, callbacks, error checks), more
than the server spends: at a million keys that is most of an export or import. Here hiredis
packs the commands and parses the replies, read straight from the connection's socket.
"""

from __future__ import annotations

from collections.abc import Sequence

import hiredis
import redis


def run(client: redis.Redis, commands: Sequence[tuple], *, decode: bool = False) -> list:
    """The replies in order; an error reply comes back as its ResponseError, not raised.

    With decode, bulk strings come back as str, decoded in C (bytes that are not UTF-8 as surrogate escapes).
    """
    if not commands:
        return []
    pool = client.connection_pool
    try:
        conn = pool.get_connection()
    except TypeError:  # redis-py 5 wants a command name
        conn = pool.get_connection("PING")
    try:
        conn.send_packed_command([b"".join(map(hiredis.pack_command, commands))])
        options = {"encoding": "utf-8", "errors": "surrogateescape"} if decode else {}
        reader, sock = hiredis.Reader(replyError=redis.ResponseError, **options), conn._sock  # replies all read below
        replies: list = []
        while len(replies) < len(commands):
            chunk = sock.recv(1 << 16)
            if not chunk:
                raise redis.ConnectionError("the server closed the connection")
            reader.feed(chunk)
            while (reply := reader.gets()) is not False:
                replies.append(reply)
        return replies
    except BaseException:
        conn.disconnect()  # replies may be left unread
        raise
    finally:
        pool.release(conn)
