"""Production refuses a Redis that keeps nothing on disk, warns about snapshots only, accepts AOF.

The decision is a table (no Redis); the start-up checks run against real valkey-server
processes configured each way, through the app factory and the `factsbot worker` command.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys

import pytest
import redis

from bot import settings
from bot.app import ConfigurationError, create_app
from bot.dashboard import accounts
from bot.persistence import Kind, Persistence, assess
from tests.conftest import Phone
from tests.test_dashboard import PASSWORD
from tests.valkeys import Valkeys


@pytest.fixture
def valkeys(tmp_path, no_process_left_behind):
    servers = Valkeys(tmp_path / "valkeys")
    yield servers
    servers.stop_all()


@pytest.mark.parametrize(
    "appendonly, save, kind, seconds",
    [
        ("yes", "", Kind.AOF, 0),
        ("yes", "3600 1 300 100 60 10000", Kind.AOF, 0),
        ("no", "", Kind.VOLATILE, 0),
        ("no", "3600 1 300 100 60 10000", Kind.SNAPSHOTS, 3600),  # a lone opt-out waits for the "1 change" rule
        ("no", "60 10000 900 1", Kind.SNAPSHOTS, 900),
        ("no", "300 10", Kind.SNAPSHOTS, 300),
        ("NO", "  ", Kind.VOLATILE, 0),
    ],
)
def test_assess_reads_the_servers_settings(appendonly, save, kind, seconds):
    assert assess(appendonly, save) == Persistence(kind, seconds)


def test_the_warning_says_how_many_minutes_of_opt_outs_a_crash_can_lose():
    assert "up to 60 minutes of opt-outs can be lost on a crash" in assess("no", "3600 1").warning()
    assert "up to 2 minutes" in assess("no", "90 1").warning()
    assert assess("yes", "").warning() == ""


def _production(config: dict, url: str, **changes) -> dict:
    return {**config, "REDIS_URL": url, "ALLOW_VOLATILE_REDIS": False, **changes}


def test_production_refuses_a_server_that_keeps_nothing(config, valkeys):
    volatile = valkeys.server("volatile", appendonly="no", save='""')
    with pytest.raises(ConfigurationError, match="keeps nothing on disk") as refused:
        create_app(_production(config, volatile.url))
    assert "appendonly yes" in str(refused.value) and "ALLOW_VOLATILE_REDIS=true" in str(refused.value)


def test_allow_volatile_redis_starts_anyway_for_a_demo(config, valkeys):
    volatile = valkeys.server("volatile", appendonly="no", save='""')
    app = create_app(_production(config, volatile.url, ALLOW_VOLATILE_REDIS=True))
    assert app.extensions["factsbot"].persistence.kind is Kind.VOLATILE
    assert Phone(app.test_client()).text("hi")


def test_snapshots_only_start_with_a_warning_on_the_overview(config, valkeys, caplog):
    rdb = valkeys.server("rdb", appendonly="no", save="3600 1 300 100")
    app = create_app(_production(config, rdb.url))
    assert "up to 60 minutes of opt-outs can be lost on a crash" in caplog.text
    html = _overview(app)
    assert "up to 60 minutes of opt-outs can be lost on a crash" in html


def test_aof_starts_without_a_warning(config, valkeys, caplog):
    aof = valkeys.server("aof", appendonly="yes", save='""')
    app = create_app(_production(config, aof.url))
    assert app.extensions["factsbot"].persistence.kind is Kind.AOF
    assert "can be lost" not in caplog.text and "can be lost" not in _overview(app)


def test_a_managed_service_that_forbids_config_is_accepted_with_a_note(config, valkeys, caplog):
    managed = valkeys.server("managed", appendonly="no", save='""')
    managed.client().execute_command("ACL", "SETUSER", "default", "-config")
    caplog.set_level("INFO")
    app = create_app(_production(config, managed.url))
    assert app.extensions["factsbot"].persistence.kind is Kind.UNKNOWN
    assert "refused CONFIG GET" in caplog.text


def test_development_does_not_check(config, valkeys):
    volatile = valkeys.server("volatile", appendonly="no", save='""')
    app = create_app(_production(config, volatile.url, FACTSBOT_ENV="development"))
    assert app.extensions["factsbot"].persistence is None


def test_the_worker_refuses_a_server_that_keeps_nothing(config, valkeys):
    volatile = valkeys.server("volatile", appendonly="no", save='""')
    env = {**os.environ, **{k: str(v) for k, v in _production(config, volatile.url).items() if v is not None}}
    env.update(FACTSBOT_ENV="production", ALLOW_VOLATILE_REDIS="false", LOG_LEVEL="WARNING")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "worker", "--burst"], cwd=settings.ROOT, env=env,
                          capture_output=True, text=True, timeout=60, start_new_session=True)  # fmt: skip
    assert done.returncode != 0
    assert "keeps nothing on disk" in done.stderr and "ALLOW_VOLATILE_REDIS" in done.stderr


def test_the_embedded_dev_server_keeps_an_append_only_file(tmp_path, monkeypatch):
    from bot import embedded, persistence

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(embedded, "DATA", tmp_path / "data")  # not the developer's own dev data
    monkeypatch.setattr(embedded, "SHARED", tmp_path / "shared")
    monkeypatch.setattr(embedded, "_server", None)
    url = embedded.redis_url(share=True, reuse=False)
    try:
        with redis.Redis.from_url(url) as client:
            assert persistence.read(client).kind is Kind.AOF
    finally:
        server = embedded._server
        server.stop()
        atexit.unregister(server.stop)  # stopped here: the suite checks that nothing is left running


def _overview(app) -> str:
    from tests.test_dashboard import FAST_HASH, Dashboard

    accounts.create(app.extensions["factsbot"].store, "admin@example.org", "admin", PASSWORD, by="test",
                    method=FAST_HASH)  # fmt: skip
    dash = Dashboard(app.test_client())
    dash.login("admin@example.org", PASSWORD)
    response = dash.get("/dashboard/")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)
