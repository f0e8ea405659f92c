"""What the benchmarks that run `factsbot worker` processes share: their environment, the workers, the cleanup."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import settings  # noqa: E402


def worker_env(url: str, prefix: str, **extra: str) -> tuple[dict, dict]:
    """The workers' environment (a null provider, no rate limit, quiet logs) and the same settings for this process."""
    env = {**os.environ, "REDIS_URL": url, "REDIS_PREFIX": prefix, "FACTSBOT_ENV": "development",
           "SMS_PROVIDER": "null", "SMS_MPS": "0", "LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT), **extra}  # fmt: skip
    names = ("REDIS_URL", "REDIS_PREFIX", "FACTSBOT_ENV", "SMS_PROVIDER", *extra)
    return env, {**settings.from_env({}), **{k: env[k] for k in names}, "SMS_MPS": 0}


def start_workers(env: dict, count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]  # fmt: skip


def cleanup(r, prefix: str) -> None:
    """Delete the run's keys and RQ's keys and queues for it."""
    jobs = prefix.replace(":", "-")  # job ids carry the prefix with - for : (bot.jobs.job_id)
    patterns = (f"{prefix}*", f"rq:*{prefix}*", f"rq:*{jobs}*")
    keys = [k for pattern in patterns for k in r.scan_iter(match=pattern, count=5000)]
    for i in range(0, len(keys), 5000):
        r.delete(*keys[i : i + 5000])
    ours = [q for q in r.smembers("rq:queues") if prefix.encode() in q]
    if ours:
        r.srem("rq:queues", *ours)


def arguments(doc: str, size: str, default: int, quick: int, quick_help: str, other: str,
              other_help: str) -> tuple[argparse.Namespace, int]:  # fmt: skip
    """A worker bench's options: how many (`--<size>`, `quick` of them with --quick), how many for its
    second, slower run (`--<other>`) and --workers; and how many this run is for."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(f"--{size}", type=int, default=default)
    parser.add_argument(f"--{other}", type=int, default=None, help=other_help)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    args = parser.parse_args()
    return args, quick if args.quick else getattr(args, size)


def stop_workers(started: list[subprocess.Popen]) -> None:
    """SIGTERM (a worker finishes its job first), then wait for each."""
    for w in started:
        w.send_signal(signal.SIGTERM)
    for w in started:
        w.wait(timeout=60)


def wait_for_workers(svc, count: int) -> None:
    """Until `count` workers listen on the bulk queue (starting one takes seconds on a busy machine)."""
    from rq import Worker

    deadline = time.monotonic() + 120
    while Worker.count(queue=svc.queue("bulk")) < count:
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not start in two minutes")
        time.sleep(0.1)
    time.sleep(1.0)  # and their first look at the queues (recovery, ticks) is over
