"""Writes that must survive a failover: a script and a WAIT for replicas in one round trip.

With REDIS_WAIT_REPLICAS > 0, the conversation commit, opt-outs and broadcast claims are
pipelined with `WAIT replicas ms`: the answer comes back once that many replicas hold the
write, so a primary that dies after a family got their reply cannot take the write with it
(Sentinel promotes a replica that has it). A WAIT that times out does not undo anything: the
family still gets the reply, and the timeout is counted per day for the dashboard overview.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import redis
from redis.commands.core import Script
from redis.exceptions import NoScriptError

if TYPE_CHECKING:
    from bot.store.people import Store

log = logging.getLogger(__name__)


class Replicated:
    """Runs scripts so their writes reach `replicas` replicas before the answer (when replicas > 0)."""

    def __init__(self, store: Store, replicas: int, timeout_ms: int):
        self.redis, self.keys = store.redis, store.keys
        self.replicas, self.timeout_ms = replicas, timeout_ms

    def run(self, script: Script, keys: Sequence[str], args: Sequence[object]):
        """The script's answer; one round trip either way (two only when the server lost its scripts)."""
        if self.replicas <= 0:
            return script(keys=keys, args=args)
        for _ in range(2):
            pipe = self.redis.pipeline(transaction=False)
            pipe.evalsha(script.sha, len(keys), *keys, *args)
            pipe.execute_command("WAIT", self.replicas, self.timeout_ms)
            answer, acknowledged = pipe.execute(raise_on_error=False)
            if not isinstance(answer, NoScriptError):
                break
            # A new primary after a failover, or a restart: it has not seen the script yet.
            self.redis.script_load(script.script)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(acknowledged, Exception) or int(acknowledged) < self.replicas:
            self._count_timeout(acknowledged)
        return answer

    def _count_timeout(self, acknowledged: object) -> None:
        log.warning("a write reached %s of %d replicas within %d ms; it stands on the primary",
                    acknowledged, self.replicas, self.timeout_ms)  # fmt: skip
        try:
            self.redis.hincrby(self.keys.wait_timeouts(), _day(time.time()), 1)
        except redis.RedisError:
            pass  # the write itself succeeded: the family's reply must not fail over a counter

    def timeouts(self, days: int, now: float | None = None) -> int:
        """WAIT timeouts counted over the last `days` UTC days (today included)."""
        now = time.time() if now is None else now
        names = [_day(now - n * 86_400) for n in range(days)]
        return sum(int(v or 0) for v in self.redis.hmget(self.keys.wait_timeouts(), names))


def _day(when: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(when))
