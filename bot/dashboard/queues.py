"""RQ's health: jobs queued, running, scheduled and failed per queue, and the workers serving them."""

from __future__ import annotations

from flask import Blueprint, render_template
from rq import Worker
from rq.job import Job

from bot import services
from bot.dashboard.access import protect

bp = protect(Blueprint("dashboard_queues", __name__, url_prefix="/dashboard"))
QUEUES = ("replies", "bulk")
FAILED_SHOWN = 10


def queue_figures(queue) -> dict:
    return {
        "name": queue.name,
        "queued": queue.count,
        "started": queue.started_job_registry.count,
        "scheduled": queue.scheduled_job_registry.count,
        "deferred": queue.deferred_job_registry.count,
        "failed": queue.failed_job_registry.count,
        "finished": queue.finished_job_registry.count,
    }


def failed_jobs(queue) -> list[dict]:
    ids = queue.failed_job_registry.get_job_ids(0, FAILED_SHOWN - 1)
    found = []
    for job in Job.fetch_many(ids, connection=queue.connection):
        if job is not None:
            result = job.latest_result()
            found.append({"id": job.id, "function": job.func_name, "ended_at": job.ended_at,
                          "error": _last_line(result.exc_string if result else "")})  # fmt: skip
    return found


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


@bp.get("/queues")
def index():
    svc = services.get()
    queues = [svc.queue(name) for name in QUEUES]
    names = {q.name for q in queues}
    workers = [w for w in Worker.all(connection=svc.store.redis) if names & set(w.queue_names())]
    return render_template("dashboard/queues.html", queues=[queue_figures(q) for q in queues],
                           failed={q.name: failed_jobs(q) for q in queues},
                           workers=[{"name": w.name, "state": w.get_state(), "queues": ", ".join(w.queue_names()),
                                     "job": w.get_current_job_id() or "", "heartbeat": w.last_heartbeat,
                                     "done": w.successful_job_count, "failed": w.failed_job_count}
                                    for w in workers])  # fmt: skip
