"""Exactly once across a crash: real worker processes, one killed with SIGKILL mid-broadcast."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from bot import broadcasts
from bot.store import Broadcasts
from tests.conftest import recorded, start_worker

pytestmark = pytest.mark.slow

RECIPIENTS = 300


def horses(worker: subprocess.Popen) -> list[int]:
    """The work horses a worker has forked; RQ runs each job in one.

    A horse leads a process group of its own (RQ calls setpgrp in it); the worker's other child,
    the scheduler, does not, and must not be taken for a horse busy with a batch.
    """
    found = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True)
    return [pid for pid in map(int, found.stdout.split()) if _leads_its_group(pid)]


def _leads_its_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def kill_with_horse(worker: subprocess.Popen) -> None:
    """SIGKILL a worker and its horse (the horse is in its own process group, so both are named)."""
    for pid in [*horses(worker), worker.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    worker.wait(timeout=10)


def busy_worker(workers: list[subprocess.Popen], first_seen: dict[int, float]) -> int | None:
    """The index of a worker whose horse has been at its batch for a while, so it holds a claimed send.

    Which worker that is depends on which started first, which a loaded machine decides, not the test.
    """
    now = time.monotonic()
    for i, worker in enumerate(workers):
        for pid in horses(worker):
            if now - first_seen.setdefault(pid, now) >= 0.3:
                return i
    return None


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (found := condition()) is not None and found is not False:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_mid_broadcast_then_restart_sends_nobody_twice(services, config):
    # Three batches of 100 at 100 SMS a second: a worker is mid-batch when 60 have gone.
    config = {**config, "BROADCAST_BATCH_SIZE": 100, "SMS_MPS": 100}
    services.config = config
    phones = [f"+2567100{n:05d}" for n in range(RECIPIENTS)]
    services.store.redis.sadd(services.store.keys.group("crash"), *phones)
    bid = broadcasts.create(services, topic_id="malaria", number=1, groups=["crash"], created_by="test")
    store = Broadcasts(services.store)

    workers = [start_worker(config), start_worker(config)]
    try:
        wait_for(lambda: len(recorded(config)) >= 60, 60, "the first sends")
        first_seen: dict[int, float] = {}
        victim = wait_for(lambda: busy_worker(workers, first_seen), 30, "a worker in the middle of a batch")
        kill_with_horse(workers[victim])  # no goodbye: the batch in its hands is abandoned
        sent_at_kill = len(recorded(config))
        assert sent_at_kill < RECIPIENTS, "the broadcast finished before the kill; nothing was tested"
        workers[victim] = start_worker(config)  # a restarted worker requeues what the dead one left
        wait_for(lambda: store.get(bid).get("status") == "done", 90, "the broadcast to finish")
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
                w.wait(timeout=30)

    lines = [x for x in recorded(config) if x.get("broadcast_id") == bid]
    sent = [x["to"] for x in lines]
    assert len(sent) == len(set(sent)), "somebody got the broadcast twice"
    states = store.recipient_states(bid)
    assert set(states) == set(phones)
    unknown = {p for p, s in states.items() if s == "i"}
    done = {p for p, s in states.items() if s == "s"}
    assert done | unknown == set(phones), "every recipient is either sent or reported unknown"
    assert done <= set(sent), "everyone counted as sent was really sent"
    assert set(sent) <= done | unknown
    figures = broadcasts.figures(store.get(bid))
    assert figures["sent"] == len(done) and figures["unknown"] == len(unknown) and figures["planned"] == RECIPIENTS
    assert len(unknown) == 1, "exactly the send in flight at the kill is unknown"
