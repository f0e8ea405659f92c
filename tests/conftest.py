"""Fixtures: a real Redis (the machine's, or an embedded Valkey), a fresh app, a signed phone."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from urllib.parse import urlencode

import pytest
import redis
from twilio.request_validator import RequestValidator

from bot import embedded, settings
from bot.app import create_app

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
BASE_URL = "https://sms.example.org"


@pytest.fixture(scope="session")
def redis_url() -> str:
    return embedded.redis_url(reuse=False)  # never a developer's running dev server


@pytest.fixture
def prefix(redis_url):
    """A key prefix of this test's own; only its keys are deleted afterwards."""
    value = f"fbtest:{uuid.uuid4().hex[:12]}:"
    yield value
    client = redis.Redis.from_url(redis_url)
    # RQ's own keys carry our queue names (rq:queue:<prefix>bulk, rq:finished:<prefix>bulk, ...)
    # and list the jobs, whose keys do not.
    rq_keys = list(client.scan_iter(match=f"rq:*{value}*", count=1000))
    job_ids = set()
    for key in rq_keys:
        kind = client.type(key)
        if kind == b"zset":
            job_ids.update(client.zrange(key, 0, -1))
        elif kind == b"list":
            job_ids.update(client.lrange(key, 0, -1))
    job_keys = [k for j in job_ids for k in (b"rq:job:" + j, b"rq:results:" + j)]
    keys = list(client.scan_iter(match=f"{value}*", count=1000)) + rq_keys + job_keys
    for i in range(0, len(keys), 500):
        client.delete(*keys[i : i + 500])
    ours = [q for q in client.smembers("rq:queues") if value.encode() in q]
    if ours:
        client.srem("rq:queues", *ours)
    client.close()


@pytest.fixture
def config(redis_url, prefix, tmp_path) -> dict:
    return {
        **settings.from_env({}),  # defaults only: the developer's own environment must not leak in
        "FACTSBOT_ENV": "production",
        "SECRET_KEY": "test-secret",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_BASE_URL": BASE_URL,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": prefix,
        "AT_CALLBACK_TOKEN": "",
        "AT_ALLOWED_IPS": "127.0.0.1/32",  # the test client's address: Africa's Talking callbacks pass
        "SMS_PROVIDER": "record",
        "SMS_RECORD_PATH": str(tmp_path / "sent.jsonl"),
        "CHILD_HELPLINE": "",
        "EMERGENCY_NUMBER": "",
        "BROADCAST_QUIET_HOURS": "0-0",  # broadcasts go out whatever the hour CI runs at; one test sets it
    }


@pytest.fixture
def app(config):
    app = create_app(config)
    yield app
    app.extensions["factsbot"].store.redis.connection_pool.disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def services(app):
    """The app's services; RQ jobs run in this process (SimpleWorker) use them too."""
    from bot import jobs

    svc = app.extensions["factsbot"]
    jobs.use(svc)
    yield svc
    jobs.use(None)


def start_worker(config) -> subprocess.Popen:
    """A real `factsbot worker` process (an RQ worker forking a work horse per job) on this test's keys."""
    env = {**os.environ, **{k: str(v) for k, v in config.items() if isinstance(v, (str, int, bool))},
           "FACTSBOT_ENV": "development", "LOG_LEVEL": "WARNING"}  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=settings.ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def recorded(config) -> list[dict]:
    """What the record provider sent, one dict per SMS."""
    import json
    from pathlib import Path

    path = Path(config["SMS_RECORD_PATH"])
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def sign(url: str, form: dict, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


class Phone:
    """A family's phone texting the Twilio webhook, with correctly signed requests."""

    def __init__(self, client, number: str = "+256712345678"):
        self.client = client
        self.number = number
        self.sent = 0

    def form(self, body: str, sid: str | None = None) -> dict:
        self.sent += 1
        return {
            "MessageSid": sid or f"SM{uuid.uuid4().hex}",
            "AccountSid": "AC" + "0" * 32,
            "From": self.number,
            "To": "+254700000000",
            "Body": body,
            "NumMedia": "0",
        }

    def post(self, form: dict, path: str = "/sms/twilio"):
        return self.client.post(
            path,
            data=urlencode(form),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": sign(BASE_URL + path, form)},
        )

    def text(self, body: str, sid: str | None = None) -> list[str]:
        """Send `body`; return the SMS parts of the reply."""
        response = self.post(self.form(body, sid))
        assert response.status_code == 200, response.data
        return replies(response)


def replies(response) -> list[str]:
    from xml.etree import ElementTree

    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


@pytest.fixture
def phone(client) -> Phone:
    return Phone(client)
