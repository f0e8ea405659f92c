"""Benchmark: a broadcast to N subscribers through the whole path, vs one RQ job per recipient.

    .venv/bin/python bench/broadcast.py [--recipients 100000] [--quick]

Plan -> queue -> send -> record, with 2 `factsbot worker` processes, a provider that
accepts instantly (SMS_PROVIDER=null) and no rate limit. The naive design, measured in
the same run on the same workers, enqueues one RQ job per recipient that checks the
opt-out, claims, sends and records with its own round trips. Redis is REDIS_URL or an
embedded Valkey (preferred: memory figures on a shared server are polluted by others).
The last line is one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import arguments, cleanup, start_workers, stop_workers, wait_for_workers, worker_env  # noqa: E402
from bot import broadcasts, embedded, services  # noqa: E402
from bot.store import Broadcasts  # noqa: E402


def naive_send(svc, prefix: str, broadcast_id: str, phone: str) -> str:
    """One job per recipient: the same checks and records, each its own round trip (factsbot's worker hands it svc)."""
    r, keys = svc.store.redis, svc.store.keys
    if r.sismember(keys.optouts(), phone):
        return "excluded"
    if not r.hsetnx(keys.recipients(broadcast_id), phone, "i"):
        return "skip"
    result = svc.provider.send(phone, "Sleep under a treated net every night.", {"broadcast_id": broadcast_id})
    pipe = r.pipeline(transaction=True)
    pipe.hset(keys.recipients(broadcast_id), phone, "s")
    pipe.hincrby(keys.broadcast(broadcast_id), "sent", 1)
    pipe.hset(keys.sent(result.provider_id), mapping={"phone": phone, "status": "sent", "broadcast": broadcast_id})
    pipe.expire(keys.sent(result.provider_id), 604800)
    pipe.execute()
    return "sent"


def used_memory(r) -> int:
    return int(r.info("memory")["used_memory"])


def main() -> None:
    args, n = arguments(__doc__, "recipients", 100_000, 20_000, "20,000 recipients, 2,000 naive: about a minute",
                        "naive", "recipients for the naive run (default N/10)")  # fmt: skip
    naive_n = args.naive or (2_000 if args.quick else max(n // 10, 1))

    url = embedded.redis_url()
    prefix = f"bench-bc-{uuid.uuid4().hex[:6]}:"
    # BROADCAST_QUIET_HOURS: the figure must not depend on the hour it is run
    env, config = worker_env(url, prefix, BROADCAST_QUIET_HOURS="0-0")
    svc = services.build(config)
    r, keys = svc.store.redis, svc.store.keys
    phones = [f"+2547{i:08d}" for i in range(n)]

    before = used_memory(r)
    for i in range(0, n, 10_000):
        r.sadd(keys.group("bench"), *phones[i : i + 10_000])
    subscriber_bytes = (used_memory(r) - before) / n
    print(f"{n:,} subscribers in a group: {subscriber_bytes:.0f} bytes of Redis each", flush=True)

    workers = start_workers(env, args.workers)
    try:
        wait_for_workers(svc, args.workers)
        before = used_memory(r)
        start = time.perf_counter()
        bid = broadcasts.create(svc, topic_id="malaria", number=1, groups=["bench"], created_by="bench")
        store = Broadcasts(svc.store)
        while store.get(bid).get("status") != "done":
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        figures = broadcasts.figures(store.get(bid))
        assert figures["sent"] == n, figures
        broadcast_bytes = (used_memory(r) - before) / n
        rate = n / elapsed
        print(
            f"batched broadcast: {n:,} recipients in {elapsed:.1f} s = {rate:,.0f} recipients/s "
            f"({broadcast_bytes:.0f} bytes of Redis per recipient for its states, audience and log)",
            flush=True,
        )

        from bench.broadcast import naive_send as job  # by module name: workers cannot import __main__

        naive_id = store.create({"topic": "malaria", "message": "malaria-1", "groups": "bench", "status": "sending"})
        queue = svc.queue("bulk")
        start = time.perf_counter()
        for i in range(0, naive_n, 1000):
            queue.enqueue_many([queue.prepare_data(job, args=(prefix, naive_id, p), result_ttl=0)
                                for p in phones[i : i + 1000]])  # fmt: skip
        deadline = time.monotonic() + 600
        while int(r.hget(keys.broadcast(naive_id), "sent") or 0) < naive_n:
            if time.monotonic() > deadline:
                raise SystemExit("the naive run did not finish in 10 minutes")
            time.sleep(0.05)
        naive_elapsed = time.perf_counter() - start
        naive_rate = naive_n / naive_elapsed
        print(f"naive, one job per recipient: {naive_n:,} in {naive_elapsed:.1f} s = {naive_rate:,.0f} recipients/s",
              flush=True)  # fmt: skip
    finally:
        stop_workers(workers)
        cleanup(r, prefix)

    summary = {
        "recipients_per_s": round(rate, 1),
        "naive_recipients_per_s": round(naive_rate, 1),
        "ratio": round(rate / naive_rate, 2),
        "bytes_per_subscriber": round(subscriber_bytes, 1),
        "broadcast_bytes_per_recipient": round(broadcast_bytes, 1),
        "recipients": n,
        "naive_recipients": naive_n,
        "workers": args.workers,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
