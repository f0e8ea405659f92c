"""Broadcasts: one key message to everyone in some groups, sent by RQ workers in batches.

Exactly once per (broadcast, recipient): every recipient is claimed in Redis ("in flight")
just before the provider is called and settled right after, in one round trip that also
claims the next. Retried jobs, resumed broadcasts and workers restarted after a crash skip
whoever was already claimed; a claim left behind by a killed worker is counted `unknown`,
never sent again. Opt-out and group membership are checked again at each claim.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING

from rq import Worker
from rq.executions import Execution
from rq.job import Job

from bot import quiet, reach, segments, stages, timed
from bot.content import Catalog
from bot.jobs import job_id, retry
from bot.outbound import TransientSendError, throttle
from bot.providers import Outcome
from bot.store import Broadcasts, BroadcastStatus, LogEntry, RecipientState, Settled
from bot.store.channels import routing_profiles

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

Status = BroadcastStatus
SETTLE = {  # provider outcome -> (recipient state, broadcast figure)
    Outcome.SENT: (RecipientState.SENT, "sent"),
    Outcome.FAILED: (RecipientState.FAILED, "failed"),
    Outcome.OPTED_OUT: (RecipientState.OPTED_OUT, "opted_out"),
    Outcome.INVALID: (RecipientState.INVALID, "invalid"),
}
# What `Broadcasts.step` answers when the broadcast itself stopped (its status, or gone).
STOPPED = frozenset({*(s.value for s in (Status.PAUSED, Status.CANCELLED, Status.DONE, Status.SCHEDULED)), "missing"})


class BroadcastError(ValueError):
    """A broadcast cannot be created or changed as asked; the message says why, for a person."""


def create(svc: Services, *, topic_id: str, number: int, groups: list[str], created_by: str,
           at: datetime | None = None, stage: stages.Target | None = None) -> str:  # fmt: skip
    """Create a broadcast of key message `number` of a topic, now or at `at`; to the groups' members
    whose registered child or pregnancy is in `stage` when it starts, if a stage is given."""
    lang = svc.catalog.language("en")
    try:
        topic = lang.topic(topic_id)
    except StopIteration:
        raise BroadcastError(f"no topic {topic_id!r}") from None
    if not 1 <= number <= len(topic.messages):
        raise BroadcastError(f"{topic.label} has key messages 1 to {len(topic.messages)}")
    if not groups:
        raise BroadcastError("name at least one group")
    message = topic.messages[number - 1]
    store = Broadcasts(svc.store)
    bid = store.create({"topic": topic.id, "message": message.id, "groups": ",".join(groups),
                        "created_by": created_by, "status": (Status.SCHEDULED if at else Status.SENDING).value,
                        "scheduled_at": f"{at.timestamp():.0f}" if at else "",
                        "stage": stage.stored if stage else ""})  # fmt: skip
    if at:
        svc.queue("bulk").enqueue_at(at, "bot.broadcasts.start", bid, job_id=job_id(svc.config, bid, "start"))
    else:
        start(svc, bid)
    return bid


def start(svc: Services, broadcast_id: str) -> int:
    """Snapshot the audience and queue its batches (an RQ job for scheduled broadcasts)."""
    store = Broadcasts(svc.store)
    info = store.get(broadcast_id)
    if info.get("started_at"):
        return 0  # a second start (a duplicated job) must not snapshot again
    status = info.get("status")
    if status == Status.SCHEDULED and not store.set_status(broadcast_id, Status.SENDING, only_from=(Status.SCHEDULED,)):
        return 0
    if status not in (Status.SCHEDULED, Status.SENDING):
        return 0  # paused or cancelled before it started
    stage = stages.stored_target(info.get("stage", ""))
    keep = (lambda phones: timed.in_stage(svc, phones, stage)) if stage else None
    batches = store.snapshot(broadcast_id, info["groups"].split(","), int(svc.config["BROADCAST_BATCH_SIZE"]), keep)
    if batches == 0:
        store.batch_done(broadcast_id, 0)  # finishes it, unless it was cancelled meanwhile
        return 0
    enqueue_batches(svc, broadcast_id, range(batches), "")
    return batches


def audience_size(svc: Services, groups: list[str], stage: stages.Target | None = None) -> int:
    """How many a broadcast to these groups (and stage) would reach now: the preview's count."""
    store = Broadcasts(svc.store)
    if stage is None:
        return store.audience_size(groups)
    return len(timed.in_stage(svc, store.members(groups)[0], stage)) if groups else 0


SEND_BATCH = "bot.broadcasts.send_batch"  # the job's dotted path: RQ stores it, and recover reads it back


def enqueue_batches(svc: Services, broadcast_id: str, batches, suffix: str, at: datetime | None = None) -> None:
    queue = svc.queue("bulk")
    options = {"retry": retry(svc.config), "job_timeout": 3600, "result_ttl": 3600}
    for n in batches:
        ident = job_id(svc.config, broadcast_id, n, suffix)
        if at:
            queue.enqueue_at(at, SEND_BATCH, broadcast_id, n, job_id=ident, **options)
        else:
            queue.enqueue(SEND_BATCH, broadcast_id, n, job_id=ident, **options)


def quiet_until(config, phone: str, now: datetime | None = None) -> datetime | None:
    """When a broadcast may reach `phone` if it is now night where they live (BROADCAST_QUIET_HOURS), else None."""
    now = now or datetime.now(timezone.utc)
    hours = quiet.parse_hours(config["BROADCAST_QUIET_HOURS"], "BROADCAST_QUIET_HOURS")
    allowed = quiet.next_allowed(now, quiet.timezone_for(phone, config["TIMEZONE"]), hours)
    return allowed if allowed > now else None


def send_batch(svc: Services, broadcast_id: str, batch: int) -> str:
    """Send one batch (an RQ job). Safe to run twice, or alongside a copy of itself: claims decide who is sent."""
    store = Broadcasts(svc.store)
    info = store.get(broadcast_id)
    groups = info["groups"].split(",")
    size = int(info["batch_size"])
    texts: dict[str, tuple[str, int]] = {}  # language -> (text, segments): counted once per batch
    settled: Settled | None = None
    mps = float(svc.config["SMS_MPS"])
    audience = store.audience_slice(broadcast_id, batch, size)
    # Checked once per batch, before anyone is claimed: a batch is one place and a few minutes of sending.
    if audience and (later := quiet_until(svc.config, audience[0])):
        # The id is fixed by the time, so a recovered or retried copy waits as the same job.
        enqueue_batches(svc, broadcast_id, [batch], f"-q{later.timestamp():.0f}", at=later)
        store.update(broadcast_id, quiet_until=f"{later.timestamp():.0f}")
        return "quiet"
    run = store.new_run()
    routes = routing_profiles(svc.store, audience)  # who is on WhatsApp: one round trip per batch
    for phone in [*audience, ""]:
        outcome, lang = store.step(broadcast_id, groups, settled, phone, run=run)
        settled = None
        if outcome in STOPPED:
            return outcome
        if outcome != "go":
            continue
        if lang not in texts:
            text = text_for(svc, info, lang)
            texts[lang] = (text, max(segments.count(text).segments, 1))
        body, cost = texts[lang]
        meta = {"broadcast_id": broadcast_id, "topic": info["topic"], "message": info["message"]}
        try:
            result, fallback = reach.try_whatsapp(svc, phone, body, kind="broadcast", meta=meta,
                                                  profile=routes.get(phone, {}), record_sent=False)  # fmt: skip
        except TransientSendError:
            store.step(broadcast_id, groups, Settled.released(phone), "", run=run)
            raise
        channel = "whatsapp" if result is not None else "sms"
        if result is None:
            throttle(svc.store, svc.provider.name, cost, mps)
            result = svc.provider.send(phone, body, {**meta, **fallback})
        if result.outcome is Outcome.RETRY:
            store.step(broadcast_id, groups, Settled.released(phone), "", run=run)
            raise TransientSendError(result.reason)
        code, figure = SETTLE[result.outcome]
        entry = LogEntry("out", channel, phone, "", "broadcast", info["topic"], info["message"],
                         message_id=result.provider_id, status=result.outcome.value, reason=result.reason,
                         broadcast=broadcast_id)  # fmt: skip
        settled = Settled(phone, code.value, figure, result.provider_id, entry)
    store.batch_done(broadcast_id, batch)
    return "done"


def text_for(svc: Services, info: dict, lang: str) -> str:
    """The key message in the recipient's language (English where it lacks one)."""
    return key_message_text(svc.catalog, lang or svc.context.default_lang, info["topic"], info["message"])


def key_message_text(catalog: Catalog, lang: str, topic_id: str, message_id: str) -> str:
    """A key message exactly as a recipient reading `lang` is sent it."""
    return segments.smart_encode(catalog.language(lang).topic(topic_id).message(message_id).short)


def pause(svc: Services, broadcast_id: str) -> bool:
    return Broadcasts(svc.store).set_status(broadcast_id, Status.PAUSED, only_from=(Status.SENDING, Status.SCHEDULED))


def resume(svc: Services, broadcast_id: str) -> bool:
    store = Broadcasts(svc.store)
    info = store.get(broadcast_id)
    if not store.set_status(broadcast_id, Status.SENDING, only_from=(Status.PAUSED,)):
        return False
    if not info.get("started_at"):
        start(svc, broadcast_id)
    else:
        enqueue_batches(svc, broadcast_id, store.batches_left(broadcast_id), f"-r{time.time_ns()}")
    return True


def cancel(svc: Services, broadcast_id: str) -> bool:
    store = Broadcasts(svc.store)
    cancelled = store.set_status(broadcast_id, Status.CANCELLED,
                                 only_from=(Status.SENDING, Status.SCHEDULED, Status.PAUSED))  # fmt: skip
    if cancelled:
        store.expire_details(broadcast_id)
    return cancelled


def recover(svc: Services) -> list[str]:
    """Requeue the batches of sending broadcasts that no RQ job will run any more (after workers crashed or
    were killed); a worker does this as it starts. Which broadcasts had batches requeued.

    A batch still queued, held for later (quiet hours, a retry's wait) or in the hands of a live worker is
    left to its job: queued again it would run twice, the second copy finding every claim taken.
    """
    store = Broadcasts(svc.store)
    sending = store.with_status(Status.SENDING)
    if not sending:
        return []
    jobs = batch_jobs(svc)  # before what is left: a batch finishing meanwhile is only left out
    requeue = batches_to_requeue({bid: store.batches_left(bid) for bid in sending}, jobs)
    suffix = f"-x{time.time_ns()}"
    for bid, batches in requeue.items():
        enqueue_batches(svc, bid, batches, suffix)
    return list(requeue)


class JobState(str, Enum):
    """Where RQ holds a batch's job, as `recover` sees it."""

    QUEUED = "queued"
    SCHEDULED = "scheduled"  # waits for its time: the end of quiet hours, a retry's wait
    RUNNING = "running"  # started by a worker that is still alive
    ABANDONED = "abandoned"  # started by a worker that died: only RQ's retry, long after, would run it again


@dataclass(frozen=True)
class BatchJob:
    """One RQ job of `send_batch`: which batch it sends, and where it is."""

    broadcast_id: str
    batch: int
    state: JobState


def batches_to_requeue(left: Mapping[str, Iterable[int]], jobs: Iterable[BatchJob]) -> dict[str, list[int]]:
    """Of the batches left (broadcast -> batch numbers), those no job will run: broadcast -> batches, in order."""
    covered = {(job.broadcast_id, job.batch) for job in jobs if job.state is not JobState.ABANDONED}
    found = {bid: [n for n in batches if (bid, n) not in covered] for bid, batches in left.items()}
    return {bid: batches for bid, batches in found.items() if batches}


def batch_jobs(svc: Services) -> list[BatchJob]:
    """The `send_batch` jobs RQ holds on the bulk queue, from its own registries.

    Read in the order jobs move (scheduled, queued, started), so a job moving meanwhile is seen where
    it went; after RQ has dealt with started jobs whose heartbeats stopped (retried, or failed).
    """
    queue = svc.queue("bulk")
    conn = queue.connection
    started = queue.started_job_registry
    started.cleanup()
    held = [(ident, JobState.SCHEDULED) for ident in queue.scheduled_job_registry.get_job_ids()]
    held += [(ident, JobState.QUEUED) for ident in queue.get_job_ids()]
    workers = {worker.name: worker for worker in Worker.all(queue=queue)}
    for ident, execution_id in started.get_job_and_execution_ids(cleanup=False):
        alive = _running(conn, ident, execution_id, workers)
        held.append((ident, JobState.RUNNING if alive else JobState.ABANDONED))
    ids = list(dict.fromkeys(ident for ident, _ in held))
    batches = {}  # job id -> (broadcast, batch), for the jobs that send a batch
    for job in Job.fetch_many(ids, connection=conn):
        if job is not None and job.func_name == SEND_BATCH and len(job.args) == 2:
            batches[job.id] = (job.args[0], int(job.args[1]))
    return [BatchJob(*batches[ident], state) for ident, state in held if ident in batches]


def _running(conn, job_id: str, execution_id: str, workers: Mapping[str, Worker]) -> bool:
    """Whether an execution in RQ's StartedJobRegistry belongs to a worker still registered and alive."""
    try:
        execution = Execution.fetch(execution_id, job_id, conn)
    except ValueError:
        return False  # its record expired with its heartbeats
    worker = workers.get(execution.worker_name)
    return worker is not None and worker_running(worker)


def worker_running(worker: Worker) -> bool:
    """Whether a worker RQ still lists runs: one killed stays listed until its heartbeat lapses (a minute
    or two), so on this machine its process is asked; elsewhere RQ's word is all there is."""
    if worker.hostname != socket.gethostname() or not worker.pid:
        return True
    if worker.pid == os.getpid():
        return False  # an earlier life of this very process, which is only now starting its worker
    try:
        os.kill(worker.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def figures(info: dict[str, str]) -> dict[str, int]:
    """A broadcast's progress, as operators read it.

    A claim still "in flight" once every batch is done belongs to a worker that died while
    sending: whether it reached the gateway is unknown, so it is reported, not resent.
    """
    keys = ("planned", "excluded", "sent", "delivered", "undelivered", "failed", "opted_out", "invalid")
    found = {k: int(info.get(k) or 0) for k in keys}
    inflight = int(info.get("inflight") or 0)
    finished = info.get("status") in (Status.DONE, Status.CANCELLED)
    return {**found, "unknown": inflight if finished else 0, "inflight": 0 if finished else inflight}


def waiting_until(info: dict[str, str], now: float | None = None) -> float | None:
    """When a sending broadcast's batches waiting out the night go on (a UTC timestamp), if any are."""
    until = float(info.get("quiet_until") or 0)
    return until if info.get("status") == Status.SENDING and until > (now or time.time()) else None


def describe(info: dict[str, str]) -> str:
    f = figures(info)
    done = f["sent"] + f["failed"] + f["opted_out"] + f["invalid"] + f["unknown"]
    waiting = waiting_until(info)
    night = ""
    if waiting:
        night = f", waiting for quiet hours to end ({datetime.fromtimestamp(waiting, timezone.utc):%H:%M} UTC)"
    stage = stages.stored_target(info.get("stage", ""))
    to = f" (to those {stage})" if stage else ""
    return (f"{info['id']} {info.get('status')}{to}: {done}/{f['planned']} handled, {f['sent']} sent, "
            f"{f['delivered']} delivered, {f['failed'] + f['invalid']} failed, {f['unknown']} unknown, "
            f"{f['excluded'] + f['opted_out']} excluded{night}")  # fmt: skip
