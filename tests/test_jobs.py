"""RQ jobs: enqueued by dotted path with plain arguments, handed the services of the worker that runs them."""

from __future__ import annotations

from rq import SimpleWorker

from bot import jobs
from tests.conftest import recorded

PHONE = "+256712345678"


def test_a_job_is_handed_its_workers_services(services, config):
    queue = services.queue("replies")
    job = queue.enqueue("bot.jobs.send_text", PHONE, "Sleep under a net.", "invite")
    jobs.SimpleWorker([queue], services=services).work(burst=True)
    job.refresh()
    assert job.get_status() == "finished" and job.return_value() == "sent"
    assert [(s["to"], s["body"]) for s in recorded(config)] == [(PHONE, "Sleep under a net.")]


def test_a_worker_without_services_runs_none_of_our_jobs(services, config):
    """There is no process-wide fallback: RQ's own worker cannot run a factsbot job, and nothing is sent."""
    queue = services.queue("replies")
    job = queue.enqueue("bot.jobs.send_text", PHONE, "hi", "invite")
    SimpleWorker([queue], connection=services.store.redis).work(burst=True)
    job.refresh()
    assert job.get_status() == "failed" and recorded(config) == []


def test_job_ids_are_fixed_and_rq_safe(config):
    assert jobs.job_id({"REDIS_PREFIX": "fb:"}, "reply", "sms", "at-ATX:1/2") == "fb--reply-sms-at-ATX-1-2"
