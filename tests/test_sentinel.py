"""Sentinel and replica waits against real valkey-server processes (a primary, a replica, Sentinels).

The failover itself is drilled in test_failover.py; here: every entry point finds the primary
through the Sentinels, and an acknowledged write waits for its replica in the same round trip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import redis

from bot import conversation, services, settings, sms
from bot.app import create_app
from bot.connection import connect, sentinel_addresses
from bot.store import CountingConnection, counting_client
from tests.conftest import Phone, wait_for
from tests.valkeys import Valkeys

MASTER = "drill"


@pytest.fixture
def valkeys(tmp_path, no_process_left_behind):
    servers = Valkeys(tmp_path / "valkeys")
    yield servers
    servers.stop_all()


@pytest.fixture
def pair(valkeys):
    """A primary with one replica in sync."""
    primary = valkeys.server("primary", appendonly="yes")
    replica = valkeys.server("replica", appendonly="yes", replicaof=f"127.0.0.1 {primary.port}")
    wait_for(lambda: _replicas_online(primary) == 1, "the replica to sync", 10)
    return primary, replica


def _replicas_online(server) -> int:
    info = server.client().info("replication")
    return sum(1 for n in range(int(info["connected_slaves"])) if info.get(f"slave{n}", {}).get("state") == "online")


@pytest.mark.parametrize(
    "value, found",
    [("", []), ("127.0.0.1:26379", [("127.0.0.1", 26379)]),
     ("a:1, b:2 ,", [("a", 1), ("b", 2)]), ("[::1]:26379", [("::1", 26379)])],
)  # fmt: skip
def test_sentinel_addresses(value, found):
    assert sentinel_addresses(value) == found


@pytest.mark.parametrize("value", ["localhost", "a:b", "a:1,:2", "a:²"])
def test_a_bad_sentinel_address_is_named(value, config):
    from bot.app import ConfigurationError

    with pytest.raises(ConfigurationError, match="REDIS_SENTINELS"):
        create_app({**config, "REDIS_SENTINELS": value})


def test_the_app_and_the_cli_find_the_primary_through_sentinel(config, valkeys, pair):
    primary, replica = pair
    sentinel = valkeys.sentinel("sentinel", MASTER, primary, quorum=1)
    via = {**config, "REDIS_URL": "", "REDIS_SENTINELS": f"127.0.0.1:{sentinel.port}", "REDIS_SENTINEL_MASTER": MASTER}
    app = create_app(via)
    assert Phone(app.test_client(), "+256700000111").text("STOP")
    phone_key = f"{config['REDIS_PREFIX']}profile:+256700000111"
    assert primary.client().hget(phone_key, "opted_out") == b"1"
    # A CLI command, like the workers and the scheduler, goes through the same connect().
    env = {**os.environ, **{k: str(v) for k, v in via.items()}, "REDIS_URL": "", "LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "fieldworker", "add", "+256700000222", "--name", "Amina",
                           "--groups", "gulu"], cwd=settings.ROOT, env=env, capture_output=True, text=True,
                          timeout=60, start_new_session=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert primary.client().sismember(f"{config['REDIS_PREFIX']}fieldworkers", "+256700000222")
    app.extensions["factsbot"].store.redis.close()


def test_a_reply_waits_for_the_replica_in_the_same_round_trip(config, pair):
    primary, replica = pair
    waiting = {**config, "REDIS_URL": primary.url, "REDIS_WAIT_REPLICAS": 1, "REDIS_WAIT_MS": 2000}
    svc = services.build(waiting, counting_client(primary.url))
    handle = lambda text, sid: sms.handle(svc, conversation.Inbound("+256712345678", text, "sms", sid))  # noqa: E731
    handle("hi", "SMwarm")  # loads the script
    before = CountingConnection.sends
    reply = handle("STOP", "SMstop")
    assert CountingConnection.sends - before == 2, "load, then commit + WAIT in one pipeline"
    assert reply.parts and "cannot answer" not in reply.parts[0]
    profile = f"{config['REDIS_PREFIX']}profile:+256712345678"
    assert replica.client().hget(profile, "opted_out") == b"1", "on the replica when the reply is given"
    assert svc.store.replicated.timeouts(1) == 0


def test_a_wait_that_times_out_still_replies_and_is_counted_on_the_overview(config, pair):
    primary, _ = pair
    waiting = {**config, "REDIS_URL": primary.url, "REDIS_WAIT_REPLICAS": 2, "REDIS_WAIT_MS": 300}  # only one exists
    app = create_app(waiting)
    started = time.monotonic()
    parts = Phone(app.test_client()).text("STOP")
    assert time.monotonic() - started >= 0.3, "the WAIT was sent and waited"
    assert parts and "cannot answer" not in parts[0]
    assert redis.Redis.from_url(primary.url).hget(f"{config['REDIS_PREFIX']}profile:+256712345678", "opted_out") == b"1"
    assert app.extensions["factsbot"].store.replicated.timeouts(1) == 1
    from tests.test_persistence import _overview

    assert "did not reach 2 replica(s) within REDIS_WAIT_MS: Today 1" in _overview(app)
    app.extensions["factsbot"].store.redis.close()


def test_a_new_primary_that_lost_the_script_loads_it_again(config, pair):
    primary, _ = pair
    svc = services.build({**config, "REDIS_URL": primary.url, "REDIS_WAIT_REPLICAS": 1, "REDIS_WAIT_MS": 2000})
    svc.store.redis.script_flush()  # as a promoted replica or a restarted server may have
    reply = sms.handle(svc, conversation.Inbound("+256712345678", "hi", "sms", "SM1"))
    assert reply.parts and "cannot answer" not in reply.parts[0]


def test_connect_uses_the_url_without_sentinels(config):
    client = connect({**config, "REDIS_SENTINELS": ""})
    assert client.ping()
    client.close()
