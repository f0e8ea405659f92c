"""A Redis client that counts its round trips, for tests and benchmarks."""

from __future__ import annotations

import redis


class CountingConnection(redis.Connection):
    """A connection that counts round trips (one send each; a pipeline sends once)."""

    sends = 0

    def send_packed_command(self, command, check_health=True):
        type(self).sends += 1
        return super().send_packed_command(command, check_health)


def counting_client(url: str) -> redis.Redis:
    pool = redis.ConnectionPool(connection_class=CountingConnection, **redis.connection.parse_url(url))
    return redis.Redis(connection_pool=pool)
