"""Recovery at a worker's start: only the batches no RQ job will run are queued again.

A batch still queued, held for the morning or sent by a live worker keeps its one job; the batch
of a worker that was killed is queued again at once, though RQ still lists that worker for a while.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from rq.job import Job

from bot import broadcasts
from bot.broadcasts import BatchJob, JobState
from bot.store import Broadcasts
from tests.conftest import in_process_worker, queues, recorded, wait_for
from tests.storeview import recipient_states

QUEUED, SCHEDULED, RUNNING, ABANDONED = JobState.QUEUED, JobState.SCHEDULED, JobState.RUNNING, JobState.ABANDONED


@pytest.mark.parametrize(
    ("left", "jobs", "requeued"),
    [
        ({"B1": [0, 1, 2]}, [], {"B1": [0, 1, 2]}),  # every job lost (a Redis restored without its queue)
        ({"B1": [0, 1, 2]}, [("B1", 1, QUEUED)], {"B1": [0, 2]}),
        ({"B1": [0, 1, 2]}, [("B1", 0, SCHEDULED)], {"B1": [1, 2]}),  # quiet hours, a retry's wait
        ({"B1": [0, 1, 2]}, [("B1", 2, RUNNING)], {"B1": [0, 1]}),
        ({"B1": [0, 1, 2]}, [("B1", 0, ABANDONED)], {"B1": [0, 1, 2]}),  # its worker died
        ({"B1": [0, 1]}, [("B1", 0, ABANDONED), ("B1", 0, QUEUED)], {"B1": [1]}),  # RQ retried it already
        ({"B1": [0, 1]}, [("B1", 0, QUEUED), ("B1", 1, RUNNING)], {}),  # nothing to do: left out
        ({"B1": [0]}, [("B2", 0, RUNNING), ("B1", 5, QUEUED)], {"B1": [0]}),  # another broadcast's, a done batch's
        ({"B2": [3], "B1": [0, 1]}, [("B1", 1, RUNNING)], {"B2": [3], "B1": [0]}),
        ({"B1": []}, [], {}),
    ],
)
def test_which_batches_are_queued_again(left, jobs, requeued):
    found = broadcasts.batches_to_requeue(left, [BatchJob(*job) for job in jobs])
    assert found == requeued
    assert list(found) == list(requeued)  # in the order the broadcasts came


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize(
    ("hostname", "pid", "running"),
    [
        ("elsewhere.example", 1, True),  # another machine's worker: RQ's registration is all there is
        ("here", None, True),
        ("here", os.getppid(), True),
        ("here", "dead", False),  # killed: RQ lists it until its heartbeat lapses
        ("here", os.getpid(), False),  # this process's earlier life (a container restarted keeps the pid)
    ],
)
def test_a_worker_listed_on_this_machine_runs_only_if_its_process_does(hostname, pid, running):
    worker = SimpleNamespace(hostname=socket.gethostname() if hostname == "here" else hostname,
                             pid=dead_pid() if pid == "dead" else pid)  # fmt: skip
    assert broadcasts.worker_running(worker) is running


def batches_of(services, job_ids) -> list[tuple[str, int]]:
    """The batches these bulk-queue jobs send, one entry per job."""
    connection = services.queue("bulk").connection
    jobs = [j for j in Job.fetch_many(list(job_ids), connection=connection) if j is not None]
    return sorted((j.args[0], j.args[1]) for j in jobs if j.func_name == broadcasts.SEND_BATCH)


def batches_queued(services) -> list[tuple[str, int]]:
    return batches_of(services, services.queue("bulk").get_job_ids())


def members(services, phones) -> None:
    services.store.redis.sadd(services.store.keys.group("mbale"), *phones)


PHONES = [f"+2567200{n:05d}" for n in range(120)]


def test_queued_batches_keep_their_one_job_and_a_lost_one_is_queued_again(make_services):
    services = make_services(BROADCAST_BATCH_SIZE=40)  # nobody works the queue
    members(services, PHONES)
    bid = broadcasts.create(services, topic_id="malaria", number=1, groups=["mbale"], created_by="test")
    assert batches_queued(services) == [(bid, 0), (bid, 1), (bid, 2)]

    assert broadcasts.recover(services) == []
    assert batches_queued(services) == [(bid, 0), (bid, 1), (bid, 2)]

    queue = services.queue("bulk")
    lost = next(j for j in queue.get_jobs() if tuple(j.args) == (bid, 1))
    queue.remove(lost)  # gone from the queue, the batch not done
    assert broadcasts.recover(services) == [bid]
    assert batches_queued(services) == [(bid, 0), (bid, 1), (bid, 2)]


def test_batches_held_until_morning_are_not_queued_again(make_services, config):
    local_hour = datetime.now(ZoneInfo("Africa/Kampala")).hour
    services = make_services(BROADCAST_BATCH_SIZE=40, BROADCAST_QUIET_HOURS=f"{local_hour}-{(local_hour + 2) % 24}")
    members(services, PHONES[:50])
    bid = broadcasts.create(services, topic_id="malaria", number=1, groups=["mbale"], created_by="test")
    in_process_worker(services, queues(services)).work(burst=True)  # each batch is held for the morning
    held = services.queue("bulk").scheduled_job_registry.get_job_ids()
    assert len(held) == 2 and batches_queued(services) == []
    assert Broadcasts(services.store).batches_left(bid) == [0, 1]

    assert broadcasts.recover(services) == []
    assert batches_queued(services) == []
    assert sorted(services.queue("bulk").scheduled_job_registry.get_job_ids()) == sorted(held)
    assert recorded(config) == []


def started_batches(services) -> list[tuple[str, int]]:
    return batches_of(services, services.queue("bulk").started_job_registry.get_job_ids(cleanup=False))


def finished_batches(services) -> list[tuple[str, int]]:
    return batches_of(services, services.queue("bulk").finished_job_registry.get_job_ids())


@pytest.mark.slow
def test_a_live_workers_batch_is_left_to_it_and_a_killed_ones_is_queued_again(make_services, config, workers):
    # Three batches of 40 at 4 SMS a second: one worker is ten seconds into the first.
    slow = {**config, "BROADCAST_BATCH_SIZE": 40, "SMS_MPS": 4}
    services = make_services(**slow)
    members(services, PHONES)
    bid = broadcasts.create(services, topic_id="malaria", number=1, groups=["mbale"], created_by="test")
    worker = workers(slow)
    wait_for(lambda: started_batches(services) == [(bid, 0)] and len(recorded(config)) >= 3, "the first batch")

    assert broadcasts.recover(services) == [], "a batch a live worker sends, and queued ones, keep their job"
    assert batches_queued(services) == [(bid, 1), (bid, 2)]

    worker.kill()
    wait_for(lambda: not worker.group(), "the killed worker's processes to go")
    assert started_batches(services) == [(bid, 0)], "RQ still lists the killed worker's batch as started"
    assert len(recorded(config)) < 40, "the first batch finished before the kill; nothing was tested"
    assert broadcasts.recover(services) == [bid]
    assert batches_queued(services) == [(bid, 0), (bid, 1), (bid, 2)]

    restarted = workers({**config, "BROADCAST_BATCH_SIZE": 40, "SMS_MPS": 0})  # its own recovery queues nothing
    store = Broadcasts(services.store)
    wait_for(lambda: store.get(bid).get("status") == "done", "the broadcast to finish", 60)
    wait_for(lambda: not restarted.horses() and not batches_queued(services), "the last batch to end", 30)
    assert finished_batches(services) == [(bid, 0), (bid, 1), (bid, 2)], "each batch ran once after the kill"
    sent = [x["to"] for x in recorded(config) if x.get("broadcast_id") == bid]
    assert len(sent) == len(set(sent)), "somebody got the broadcast twice"
    states = recipient_states(services.store, bid)
    assert set(states) == set(PHONES) and set(states.values()) <= {"s", "i"}
    assert list(states.values()).count("i") <= 1, "at most the send in flight at the kill is unknown"
