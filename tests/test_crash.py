"""Exactly once across a crash: real worker processes, one killed with SIGKILL mid-broadcast."""

from __future__ import annotations

import time

import pytest

from bot import broadcasts
from bot.store import Broadcasts
from tests.conftest import WorkerProcess, recorded, wait_for
from tests.storeview import recipient_states

pytestmark = pytest.mark.slow

RECIPIENTS = 300


def busy_worker(workers: list[WorkerProcess], first_seen: dict[int, float]) -> WorkerProcess | None:
    """A worker whose horse has been at its batch for a while, so it holds a claimed send.

    Which worker that is depends on which started first, which a loaded machine decides, not the test.
    """
    now = time.monotonic()
    for worker in workers:
        for pid in worker.horses():
            if now - first_seen.setdefault(pid, now) >= 0.3:
                return worker
    return None


def test_sigkill_mid_broadcast_then_restart_sends_nobody_twice(make_services, workers, config):
    # Three batches of 100 at 100 SMS a second: a worker is mid-batch when 60 have gone.
    config = {**config, "BROADCAST_BATCH_SIZE": 100, "SMS_MPS": 100}
    services = make_services(**config)
    phones = [f"+2567100{n:05d}" for n in range(RECIPIENTS)]
    services.store.redis.sadd(services.store.keys.group("crash"), *phones)
    bid = broadcasts.create(services, topic_id="malaria", number=1, groups=["crash"], created_by="test")
    store = Broadcasts(services.store)

    running = [workers(config), workers(config)]
    wait_for(lambda: len(recorded(config)) >= 60, "the first sends")
    first_seen: dict[int, float] = {}
    victim = wait_for(lambda: busy_worker(running, first_seen), "a worker in the middle of a batch", 30)
    victim.kill()  # no goodbye: the batch in its hands is abandoned
    wait_for(lambda: not victim.group(), "the killed worker's scheduler to go with it", 10)
    sent_at_kill = len(recorded(config))
    assert sent_at_kill < RECIPIENTS, "the broadcast finished before the kill; nothing was tested"
    running.append(workers(config))  # a restarted worker requeues what the dead one left
    wait_for(lambda: store.get(bid).get("status") == "done", "the broadcast to finish", 90)
    # The restart requeues only the dead worker's batch (broadcasts.recover leaves a live worker's
    # alone), but a survivor may still be settling its last send when the broadcast is marked done.
    # Judge the end state once no worker is busy.
    alive = [w for w in running if w is not victim]
    wait_for(lambda: not any(w.horses() for w in alive), "the other workers to finish their batches", 30)

    lines = [x for x in recorded(config) if x.get("broadcast_id") == bid]
    sent = [x["to"] for x in lines]
    assert len(sent) == len(set(sent)), "somebody got the broadcast twice"
    states = recipient_states(services.store, bid)
    assert set(states) == set(phones)
    unknown = {p for p, s in states.items() if s == "i"}
    done = {p for p, s in states.items() if s == "s"}
    assert done | unknown == set(phones), "every recipient is either sent or reported unknown"
    assert done <= set(sent), "everyone counted as sent was really sent"
    assert set(sent) <= done | unknown
    figures = broadcasts.figures(store.get(bid))
    assert figures["sent"] == len(done) and figures["unknown"] == len(unknown) and figures["planned"] == RECIPIENTS
    assert len(unknown) == 1, "exactly the send in flight at the kill is unknown"
