"""RQ jobs: thin shells, and the worker that runs them with its process's services.

Jobs are enqueued by dotted path ("bot.jobs.send_text") with plain values (numbers, ids,
texts) as arguments. A worker process builds its services once, in its own composition
root (`factsbot worker`, or a test), and hands them to `Worker(queues, services=...)`;
the worker passes them to every job function as its first argument. Nothing here keeps
services in a module global: a job function sees only what its worker gives it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import rq
from rq import Retry
from rq.exceptions import DuplicateJobError
from rq.job import Job as RQJob

from bot import outbound
from bot.store import Replies

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

REPLY_TIMEOUT = 120  # seconds one reply job may run: a few parts, each perhaps waiting on the shared rate


class Job(RQJob):
    """An RQ job whose function is handed its worker's services first: `send_text(svc, phone, body, kind)`."""

    services: Services | None = None  # set by the worker that runs it, just before it runs

    def _execute(self) -> Any:
        # RQ's own call of the function (rq 2.x and 3.0), with the services in front.
        if self.services is None:
            raise RuntimeError(f"{self.func_name} runs in factsbot's worker (bot.jobs.Worker), which hands it services")
        return self.func(self.services, *self.args, **self.kwargs)


class _WithServices:
    """What factsbot's workers add to RQ's: the services of their process, handed to each job."""

    services: Services | None = None

    def __init__(self, *args, services: Services | None = None, **kwargs):
        # RQ builds workers itself too (Worker.all(), find_by_key) without services: those never run jobs.
        if services is not None:
            kwargs.setdefault("connection", services.store.redis)
            kwargs["job_class"] = Job
        super().__init__(*args, **kwargs)
        self.services = services

    def execute_job(self, job, queue):
        # Checked here, before a work horse forks: a horse's own check would die with it, and
        # every later horse would load the content again.
        if self.services is not None:
            self.services.refresh_content()
        return super().execute_job(job, queue)

    def perform_job(self, job, queue, execution):
        if isinstance(job, Job):
            job.services = self.services
        return super().perform_job(job, queue, execution)


class Worker(_WithServices, rq.Worker):
    """RQ's forking worker, running factsbot's jobs with `services`."""


class SimpleWorker(_WithServices, rq.SimpleWorker):
    """RQ's in-process worker (tests, benchmarks), running factsbot's jobs with `services`."""


def job_id(config: Mapping, *parts: object) -> str:
    """A fixed RQ job id under this deployment's prefix (RQ allows letters, digits, - and _)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", "-".join([config["REDIS_PREFIX"], *map(str, parts)]))


def retry(config: Mapping) -> Retry | None:
    """Exponential backoff for sends the gateway asked us to retry (429, 5xx, timeouts): 10 s, 30 s, 90 s..."""
    attempts = int(config["SEND_MAX_ATTEMPTS"]) - 1
    base = int(config["SEND_RETRY_SECONDS"])
    return Retry(max=attempts, interval=[base * 3**n for n in range(attempts)]) if attempts > 0 else None


# -- enqueueing (web processes and jobs) --------------------------------------------------


def enqueue_key_message(svc: Services, phone: str, topic_id: str, message_id: str) -> None:
    """Queue a key message for one person, ahead of any broadcast."""
    svc.queue("replies").enqueue("bot.jobs.send_key_message", phone, topic_id, message_id, retry=retry(svc.config))


def enqueue_text(svc: Services, phone: str, body: str, kind: str) -> None:
    """Queue one SMS we start (a field worker's invitation...), ahead of any broadcast."""
    svc.queue("replies").enqueue("bot.jobs.send_text", phone, body, kind, retry=retry(svc.config))


def enqueue_reply(svc: Services, phone: str, channel: str, message_id: str) -> None:
    """Queue the reply to inbound message `message_id`, which a gateway will not take in its HTTP response.

    The conversation's commit keeps the reply's parts with the message's dedupe marker: that
    is the record that a reply is owed. One job sends them all, in order. Its id comes from
    the message's, so a gateway's redelivery (after a 503 because this very call failed)
    queues it again, and a redelivery while it waits or runs queues nothing more.
    """
    try:
        svc.queue("replies").enqueue("bot.jobs.send_reply", phone, channel, message_id, unique=True,
                                     job_id=job_id(svc.config, "reply", channel, message_id),
                                     retry=retry(svc.config), job_timeout=REPLY_TIMEOUT)  # fmt: skip
    except DuplicateJobError:
        pass  # queued or running already: it sends whatever is still owed


# -- jobs (run by Worker, which hands each its services) -----------------------------------


def send_text(svc: Services, phone: str, body: str, kind: str) -> str:
    """One message we start (an invitation, an answer from the inbox), on the person's channel."""
    from bot import reach  # at call time: reach reads the catalog's WhatsApp templates

    return reach.deliver(svc, phone, body, kind=kind).outcome.value


def send_reply(svc: Services, phone: str, channel: str, message_id: str) -> str:
    """Send the parts of a reply still owed, in order, recording each part with its send.

    A retried or rerun job starts after the last part recorded as sent. A part sent just
    before a worker died unrecorded goes out again: a reply someone waits for is better
    twice than never.
    """
    replies = Replies(svc.store)
    parts, sent = replies.owed(channel, message_id)
    for n in range(sent, len(parts)):
        outbound.deliver(svc.store, svc.provider, phone, parts[n], mps=svc.config["SMS_MPS"], kind="reply",
                         progress=replies.progress(channel, message_id, n + 1))  # fmt: skip
    return f"{len(parts) - sent} sent"


def send_key_message(svc: Services, phone: str, topic_id: str, message_id: str) -> str:
    """A key message (short and detail) by SMS, in the person's language."""
    profile = svc.store.profile_fields(phone)
    lang = svc.catalog.language(profile.get("lang"))
    message = lang.topic(topic_id).message(message_id)
    if message is None:
        log.error("key message %s no longer exists; nothing sent", message_id)
        return "missing"
    body = f"{message.short}\n{message.detail}"
    result = outbound.deliver(svc.store, svc.provider, phone, body, mps=svc.config["SMS_MPS"], kind="key_message",
                              meta={"topic": topic_id, "message": message_id}, profile=profile)  # fmt: skip
    return result.outcome.value
