"""The failover drill: a primary dies mid-traffic and mid-broadcast; Sentinel promotes its replica.

Everything runs as separate processes on loopback, as on separate machines: a Valkey primary
and replica, three Sentinels, two gunicorn web processes and two `factsbot worker`s, all
finding the primary through the Sentinels. Families text the web processes (signed, as
Twilio would) while a 10,000-recipient broadcast goes out; the primary is SIGKILLed, and
comes back a few seconds later as a machine would after a reboot (Sentinel makes it a
replica of the new primary). The drill asserts what a family and an operator would see and
prints the figures it measured (FACTSBOT_DRILL_REPORT=path also writes them as JSON).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
import requests

from bot import settings
from bot.connection import connect
from bot.store.keys import Keys
from tests.conftest import AUTH_TOKEN, BASE_URL, RUN_MARK, WorkerProcess, replies, sign, wait_for
from tests.valkeys import Valkeys, free_port

pytestmark = pytest.mark.slow

MASTER = "factsbot"
AUDIENCE = 10_000
TRAFFIC_THREADS = 3
PREFIX = "drill:"
KEYS = Keys(PREFIX)


@dataclass
class Answer:
    sent: float  # monotonic
    took: float
    status: int  # HTTP status, 0 when the web process did not answer at all
    kind: str  # normal, apology, error
    phone: str
    text: str


class Web:
    """One gunicorn web process (a machine of its own), stopped with its whole process group."""

    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.log = log.open("wb")
        command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "8", "--bind",
                   f"127.0.0.1:{self.port}", "--graceful-timeout", "5", "bot.app:create_app()"]  # fmt: skip
        self.proc = subprocess.Popen(command, cwd=settings.ROOT, env=env, stdout=self.log, stderr=self.log,
                                     start_new_session=True)  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        with contextlib.suppress(requests.RequestException):
            return requests.get(self.url + "/healthz", timeout=2).status_code == 200
        return False

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()


class Worker(WorkerProcess):
    """A `factsbot worker` (conftest's, stopped with its horses and scheduler) whose log is kept."""

    def __init__(self, env: dict[str, str], log: Path):
        self.log = log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=settings.ROOT, env=env,
                                     stdout=self.log, stderr=self.log, start_new_session=True)  # fmt: skip
        self.pid = self.proc.pid

    def stop(self, timeout: float = 30) -> None:
        super().stop(timeout)
        self.log.close()


@pytest.fixture
def valkeys(tmp_path, no_process_left_behind):
    servers = Valkeys(tmp_path / "valkeys")
    yield servers
    servers.stop_all()


def _environment(sentinels: list, tmp_path: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "FACTSBOT_", "SMS_"))},
        RUN_MARK: os.environ.get(RUN_MARK, ""),
        "FACTSBOT_ENV": "production", "SECRET_KEY": "drill", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_BASE_URL": BASE_URL, "REDIS_URL": "", "REDIS_PREFIX": PREFIX,
        "REDIS_SENTINELS": ",".join(f"127.0.0.1:{s.port}" for s in sentinels), "REDIS_SENTINEL_MASTER": MASTER,
        "REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_MS": "500",
        "SMS_PROVIDER": "record", "SMS_RECORD_PATH": str(tmp_path / "sent.jsonl"), "SMS_MPS": "1000000",
        "BROADCAST_QUIET_HOURS": "0-0", "BROADCAST_BATCH_SIZE": "500", "SEND_RETRY_SECONDS": "1",
        "LOG_LEVEL": "WARNING", "CONTENT_CHECK_SECONDS": "3600",
    }  # fmt: skip


def _seed_audience(client: redis.Redis) -> list[str]:
    """10,000 families in group "drill", as invitations accepted would leave them."""
    phones = [f"+2567{n:08d}" for n in range(AUDIENCE)]
    pipe = client.pipeline(transaction=False)
    for n, phone in enumerate(phones):
        pipe.hset(KEYS.profile(phone), mapping={"lang": "en", "country": "UG", "groups": "drill", "rev": "1",
                                               "opted_out": "0"})  # fmt: skip
        if n % 1000 == 999:
            pipe.execute()
    for i in range(0, AUDIENCE, 5000):
        pipe.sadd(KEYS.group("drill"), *phones[i : i + 5000])
    pipe.sadd(KEYS.groups(), "drill")
    pipe.execute()
    return phones


def _sentinels_ready(sentinels) -> bool:
    for s in sentinels:
        with contextlib.suppress(redis.RedisError):
            c = s.client()
            if len(c.sentinel_slaves(MASTER)) == 1 and len(c.sentinel_sentinels(MASTER)) == len(sentinels) - 1:
                continue
        return False
    return True


class Traffic:
    """Families texting both web processes, signed as Twilio signs, until stopped."""

    def __init__(self, webs: list[Web], apology: str):
        self.webs, self.apology = webs, apology
        self.answers: list[Answer] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(TRAFFIC_THREADS)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=30)

    def _run(self, n: int) -> None:
        rng, session, count = random.Random(n), requests.Session(), 0
        while not self.stopping.is_set():
            count += 1
            phone = f"+2568{n:02d}{count:06d}"  # a new family each round: hello, a topic, then most say STOP
            for text in ("hi", "1", "STOP" if rng.random() < 0.7 else "MORE"):
                self.answers.append(self._text(session, self.webs[count % len(self.webs)], phone, text, count))
            time.sleep(0.1)

    def _text(self, session: requests.Session, web: Web, phone: str, text: str, count: int) -> Answer:
        form = {"MessageSid": f"SM{phone[1:]}{text}{count}", "AccountSid": "AC" + "0" * 32, "From": phone,
                "To": "+254700000000", "Body": text, "NumMedia": "0"}  # fmt: skip
        headers = {"X-Twilio-Signature": sign(BASE_URL + "/sms/twilio", form),
                   "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
        sent = time.monotonic()
        try:
            response = session.post(web.url + "/sms/twilio", data=urlencode(form), headers=headers, timeout=15)
        except requests.RequestException:
            return Answer(sent, time.monotonic() - sent, 0, "error", phone, text)
        took = time.monotonic() - sent
        if response.status_code != 200:
            return Answer(sent, took, response.status_code, "error", phone, text)
        parts = replies(_Response(response))
        kind = "apology" if parts and parts[0].strip() == self.apology.strip() else "normal"
        return Answer(sent, took, 200, kind, phone, text)


class _Response:
    """What tests.conftest.replies reads from a Flask response, from a requests one."""

    def __init__(self, response: requests.Response):
        self.mimetype = response.headers.get("Content-Type", "").split(";")[0]
        self.data = response.content


def _broadcast(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "bot.cli", "broadcast", "create", "--topic", "malaria", "--message",
                           "1", "--group", "drill"], cwd=settings.ROOT, env=env, capture_output=True, text=True,
                          timeout=60, start_new_session=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[0].strip(":")


def test_failover_drill(tmp_path, valkeys):
    began = time.monotonic()
    primary = valkeys.server("primary", appendonly="yes", save='""')
    replica = valkeys.server("replica", appendonly="yes", save='""', replicaof=f"127.0.0.1 {primary.port}")
    sentinels = [valkeys.sentinel(f"sentinel{n}", MASTER, primary, quorum=2, down_ms=1000) for n in range(3)]
    wait_for(lambda: _sentinels_ready(sentinels), "the Sentinels to know the replica and each other", 30)
    env = _environment(sentinels, tmp_path)
    config = {**settings.from_env(env)}
    client = connect(config)
    phones = _seed_audience(client)
    webs = [Web(env, tmp_path / f"web{n}.log") for n in range(2)]
    workers = []
    traffic = None
    try:
        wait_for(lambda: all(w.ready() for w in webs), "both web processes", 30)
        workers = [Worker({**env, "LOG_LEVEL": "INFO"}, tmp_path / f"worker{n}.log") for n in range(2)]
        from bot import services

        apology = services.build(config, client).text("apology")
        traffic = Traffic(webs, apology)
        traffic.start()
        broadcast_id = _broadcast(env)
        key = KEYS.broadcast(broadcast_id)
        started = time.monotonic()
        wait_for(lambda: int(client.hget(key, "sent") or 0) >= 1000, "1,000 recipients sent before the kill", 40)

        sent_at_kill = int(client.hget(key, "sent") or 0)
        timeouts_before_kill = sum(int(v) for v in client.hvals(KEYS.wait_timeouts()))
        killed = time.monotonic()
        primary.kill()
        wait_for(lambda: _primary_port(client) == replica.port, "Sentinel to promote the replica", 20)
        promoted_after = time.monotonic() - killed
        primary.restart()  # the machine comes back; Sentinel makes it a replica of the new primary

        def finished() -> bool:
            with contextlib.suppress(redis.RedisError):
                return client.hget(key, "status") == b"done"
            return False

        try:
            wait_for(finished, "the broadcast to finish after the failover", 60)
        except AssertionError:
            _diagnose(client, broadcast_id)
            raise
        finished_at = time.monotonic()
        time.sleep(1)  # traffic after the broadcast, on the new primary
        traffic.stop()
        promoted = client.connection_pool.get_master_address()
        info = {k.decode(): v.decode() for k, v in client.hgetall(key).items()}
        report = _measure(traffic.answers, killed, client, tmp_path / "sent.jsonl", broadcast_id, info)
        report.update(sent_at_kill=sent_at_kill, kill_at_s=round(killed - began, 1),
                      promoted_after_s=round(promoted_after, 2), wait_timeouts_before_kill=timeouts_before_kill,
                      broadcast_seconds=round(finished_at - started, 1), promoted=f"{promoted[0]}:{promoted[1]}",
                      old_primary_port=primary.port, audience=len(phones),
                      drill_seconds=round(time.monotonic() - began, 1))  # fmt: skip
        _print(report)
        assert report["http_errors"] == 0, "no HTTP 500 and no unanswered request"
        assert report["normal_again_after_s"] is not None and report["normal_again_after_s"] <= 10
        assert report["apologies_after_10s"] == 0
        assert report["wait_timeouts_before_kill"] == 0, "the replica was in step: every acknowledged write on it"
        assert report["acknowledged_optouts_lost"] == 0 and report["acknowledged_optouts"] > 0
        assert report["sent_twice"] == 0
        assert info["status"] == "done"
        assert report["broadcast_sent"] + report["broadcast_unknown"] + report["broadcast_excluded"] == AUDIENCE
        assert promoted[1] == replica.port
    finally:
        if traffic:
            traffic.stop()
        for worker in workers:
            worker.stop(timeout=10)
        for web in webs:
            web.stop()
        client.close()


def _measure(answers: list[Answer], killed: float, client: redis.Redis, record: Path, broadcast_id: str,
             info: dict[str, str]) -> dict:  # fmt: skip
    after = [a for a in answers if a.sent + a.took >= killed]
    apologies = [a for a in after if a.kind == "apology"]
    last_bad = max((a.sent + a.took for a in after if a.kind != "normal"), default=None)
    normal_again = [a.sent + a.took for a in after if a.kind == "normal" and (last_bad is None or a.sent > last_bad)]
    acknowledged = [a.phone for a in answers if a.text == "STOP" and a.kind == "normal"]
    pipe = client.pipeline(transaction=False)
    for phone in acknowledged:
        pipe.hget(KEYS.profile(phone), "opted_out")
        pipe.sismember(KEYS.optouts(), phone)
    found = pipe.execute()
    lost = sum(1 for i in range(0, len(found), 2) if found[i] != b"1" or not found[i + 1])
    sends = collections.Counter()
    for line in record.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("broadcast_id") == broadcast_id:
            sends[row["to"]] += 1
    inflight = int(info.get("inflight") or 0)
    return {
        "requests": len(answers), "requests_after_kill": len(after), "apologies_after_kill": len(apologies),
        "http_errors": sum(1 for a in answers if a.kind == "error"),
        "normal_again_after_s": round(min(normal_again) - killed, 2) if normal_again else None,
        "last_apology_after_s": round(last_bad - killed, 2) if last_bad else 0.0,
        "apologies_after_10s": sum(1 for a in apologies if a.sent + a.took > killed + 10),
        "slowest_reply_s": round(max(a.took for a in answers), 2),
        "acknowledged_optouts": len(acknowledged), "acknowledged_optouts_lost": lost,
        "broadcast_sent": int(info.get("sent") or 0), "broadcast_unknown": inflight,
        "broadcast_excluded": int(info.get("excluded") or 0), "sms_records": sum(sends.values()),
        "sent_twice": sum(1 for n in sends.values() if n > 1),
        "wait_timeouts": sum(int(v) for v in client.hvals(KEYS.wait_timeouts())),
    }  # fmt: skip


def _print(report: dict) -> None:
    print("\nfailover drill:", json.dumps(report, indent=1))
    if path := os.environ.get("FACTSBOT_DRILL_REPORT"):
        Path(path).write_text(json.dumps(report, indent=1))


def _primary_port(client: redis.Redis) -> int:
    """The primary's port as the Sentinels name it now (0 while they are deciding)."""
    with contextlib.suppress(redis.RedisError):
        return client.connection_pool.get_master_address()[1]
    return 0


def _diagnose(client: redis.Redis, broadcast_id: str) -> None:
    """What a stuck broadcast was waiting for, printed when the drill fails."""
    with contextlib.suppress(redis.RedisError):
        print("broadcast:", client.hgetall(KEYS.broadcast(broadcast_id)))
        print("batches done:", sorted(int(x) for x in client.smembers(KEYS.batches_done(broadcast_id))))
        for key in sorted(client.scan_iter(match=f"rq:*{PREFIX}*")):
            kind = client.type(key)
            size = client.zcard(key) if kind == b"zset" else client.llen(key) if kind == b"list" else kind
            print(key, size)
