"""RQ jobs: thin shells. Each worker process builds its services once (its composition root)."""

from __future__ import annotations

import logging

import rq
from rq import Retry

from bot import outbound, services, settings

log = logging.getLogger(__name__)
_services: services.Services | None = None


def current() -> services.Services:
    global _services
    if _services is None:
        _services = services.build(settings.from_env())
    _services.refresh_content()
    return _services


class Worker(rq.Worker):
    """RQ's worker, checking for published content before it forks each job's work horse.

    A horse's own check would die with it, and every later horse would then load the content again.
    """

    def execute_job(self, job, queue):
        current()
        return super().execute_job(job, queue)


def use(svc: services.Services | None) -> None:
    """Run jobs in this process with these services (tests and in-process workers)."""
    global _services
    _services = svc


def retry(config) -> Retry | None:
    """Exponential backoff for sends the gateway asked us to retry (429, 5xx, timeouts): 10 s, 30 s, 90 s..."""
    attempts = int(config["SEND_MAX_ATTEMPTS"]) - 1
    base = int(config["SEND_RETRY_SECONDS"])
    return Retry(max=attempts, interval=[base * 3**n for n in range(attempts)]) if attempts > 0 else None


def enqueue_key_message(svc: services.Services, phone: str, topic_id: str, message_id: str) -> None:
    """Queue a key message for one person, ahead of any broadcast."""
    svc.queue("replies").enqueue(send_key_message, phone, topic_id, message_id, retry=retry(svc.config))


def enqueue_reply(svc: services.Services, phone: str, parts: tuple[str, ...]) -> None:
    """Queue the SMS of a reply that a gateway will not take in its HTTP response."""
    for part in parts:
        svc.queue("replies").enqueue(send_text, phone, part, "reply", retry=retry(svc.config))


def send_text(phone: str, body: str, kind: str) -> str:
    svc = current()
    result = outbound.deliver(svc.store, svc.provider, phone, body, mps=svc.config["SMS_MPS"], kind=kind)
    return result.outcome.value


def send_key_message(phone: str, topic_id: str, message_id: str) -> str:
    """A key message (short and detail) by SMS, in the person's language."""
    svc = current()
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
