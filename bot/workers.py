"""`factsbot worker`'s loop: RQ's worker, started again when Redis goes away under it.

RQ's worker quits when a Redis command fails in its main loop (a Sentinel failover, a
restarted server). A process manager would start it again; this loop does so in-process, so
a failover costs a few seconds of sending rather than a worker down until someone notices.
Every start first runs `prepare` (requeue broadcasts an interruption left unfinished,
schedule the ticks), which is exactly what a restarted worker did before.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import redis

from bot import jobs

if TYPE_CHECKING:
    from rq import Queue

    from bot.services import Services

log = logging.getLogger(__name__)

FIRST_WAIT = 1.0  # seconds before the first new start; doubled each time Redis is still away
LONGEST_WAIT = 5.0
SETTLED_SECONDS = 60  # a worker that ran this long before quitting starts again at once


class _Stop(Exception):
    pass


def run(svc: Services, queues: list[Queue], prepare: Callable[[], None], *, burst: bool = False) -> None:
    """Run RQ's worker until it is asked to stop (SIGTERM, SIGINT) or, with `burst`, the queues are empty."""
    wait = FIRST_WAIT
    while True:
        started = time.monotonic()
        worker = None
        try:
            prepare()
            worker = jobs.Worker(queues, services=svc)
            worker.work(burst=burst, with_scheduler=True)
        except redis.RedisError as e:
            log.error("worker: Redis went away (%s)", type(e).__name__)
        if burst or (worker is not None and worker._shutdown_requested_date is not None):
            return  # emptied the queues, or asked to stop: RQ finished the job in hand first
        wait = FIRST_WAIT if time.monotonic() - started > SETTLED_SECONDS else min(wait * 2, LONGEST_WAIT)
        log.warning("worker: starting again in %.0f s", wait)
        if not _sleep(wait):
            return


def _sleep(seconds: float) -> bool:
    """Wait between starts; False when asked to stop meanwhile (RQ's own handlers are not running now)."""

    def stop(*_):
        raise _Stop

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        time.sleep(seconds)
        return True
    except _Stop:
        return False
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
