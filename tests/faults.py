"""Connection faults injected below redis-py (no mocks of our code): the server does the work, the client fails."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


class LostAnswerConnection(redis.Connection):
    """Loses the answer of the next EVALSHA after the server ran it, as a dropped connection would.

    redis-py then reconnects and sends the same command again (its default retry), so the
    script runs twice on the server with the same arguments.
    """

    armed = False
    lost = 0
    _evalsha = False

    def send_packed_command(self, command, check_health=True):
        chunks = command if isinstance(command, list) else [command]
        self._evalsha = any(b"EVALSHA" in bytes(c) for c in chunks)
        return super().send_packed_command(command, check_health)

    def read_response(self, *args, **kwargs):
        response = super().read_response(*args, **kwargs)
        if self._evalsha and type(self).armed:
            type(self).armed = False
            type(self).lost += 1
            raise redis.ConnectionError("connection lost after the script ran (injected)")
        return response


class NoQueueConnection(redis.Connection):
    """Refuses every command that touches RQ's keys while `down` is set: Redis gone between commit and enqueue."""

    down = False

    def send_packed_command(self, command, check_health=True):
        chunks = command if isinstance(command, list) else [command]
        if type(self).down and any(b"rq:" in bytes(c) for c in chunks):
            raise redis.ConnectionError("Redis went away before the reply was queued (injected)")
        return super().send_packed_command(command, check_health)


def client(url: str, connection_class: type[redis.Connection], retries: int = 3) -> redis.Redis:
    """A client over `connection_class` that resends a command after a connection error, as
    `redis.Redis(host=...)` does by default (10 times) and any client given a `Retry` does."""
    pool = redis.ConnectionPool(connection_class=connection_class, retry=Retry(NoBackoff(), retries),
                                **redis.connection.parse_url(url))  # fmt: skip
    return redis.Redis(connection_pool=pool)
