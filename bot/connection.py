"""The one way every process reaches Redis: `connect(config)`, by REDIS_URL or through Sentinel.

The web app, the workers (and the RQ scheduler they fork), every CLI command and the tests'
composition roots all call `connect`, so a deployment switches to Sentinel with settings
alone. With REDIS_SENTINELS set, the client asks the Sentinels for the primary and asks again
whenever a connection to it fails: after a failover, the next command reaches the new primary.
"""

from __future__ import annotations

from collections.abc import Mapping

import redis
from redis.sentinel import Sentinel

# Short timeouts: a webhook must answer Twilio within 15 s even when Redis is gone.
TIMEOUTS = {"socket_timeout": 2, "socket_connect_timeout": 2}
HEALTH_CHECK_SECONDS = 30


def sentinel_addresses(value: str) -> list[tuple[str, int]]:
    """ "10.0.0.1:26379, [::1]:26379" -> [("10.0.0.1", 26379), ("::1", 26379)]; ValueError names a bad one."""
    found = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isascii() or not port.isdigit():
            raise ValueError(f"REDIS_SENTINELS: {item!r} is not host:port")
        found.append((host.strip("[]"), int(port)))
    return found


def uses_sentinel(config: Mapping) -> bool:
    return bool(str(config.get("REDIS_SENTINELS") or "").strip())


def connect(config: Mapping) -> redis.Redis:
    """A client of this deployment's primary: through the Sentinels when REDIS_SENTINELS is set, else REDIS_URL."""
    if not uses_sentinel(config):
        return redis.Redis.from_url(config["REDIS_URL"], health_check_interval=HEALTH_CHECK_SECONDS, **TIMEOUTS)
    tls = _tls(config)
    sentinel_auth = {"password": config["REDIS_SENTINEL_PASSWORD"]} if config.get("REDIS_SENTINEL_PASSWORD") else {}
    sentinel = Sentinel(
        sentinel_addresses(config["REDIS_SENTINELS"]),
        sentinel_kwargs={**TIMEOUTS, **tls, **sentinel_auth},
        **TIMEOUTS,
    )
    primary = {"db": int(config.get("REDIS_DB") or 0), "health_check_interval": HEALTH_CHECK_SECONDS, **tls}
    if config.get("REDIS_USERNAME"):
        primary["username"] = config["REDIS_USERNAME"]
    if config.get("REDIS_PASSWORD"):
        primary["password"] = config["REDIS_PASSWORD"]
    return sentinel.master_for(config["REDIS_SENTINEL_MASTER"], **primary)


def _tls(config: Mapping) -> dict:
    if not config.get("REDIS_TLS"):
        return {}
    found: dict = {"ssl": True}
    if config.get("REDIS_TLS_CA_CERTS"):
        found["ssl_ca_certs"] = config["REDIS_TLS_CA_CERTS"]
    return found


def describe(config: Mapping) -> str:
    """Where this deployment's data is, for messages (no password)."""
    if uses_sentinel(config):
        return f"primary {config['REDIS_SENTINEL_MASTER']!r} via Sentinels {config['REDIS_SENTINELS']}"
    url = str(config.get("REDIS_URL") or "")
    return url.split("@", 1)[-1] if "@" in url else url
