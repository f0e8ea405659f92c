"""Benchmark: a day's timed messages for 1,000,000 registered families, vs one RQ job per message.

    .venv/bin/python bench/schedule.py [--registrations 1000000] [--quick] [--workers 2]

Registrations are spread over pregnancy weeks 4-40 (a quarter) and children's ages from birth to
five (the rest), each as a family that registered long ago and was sent everything due before
today, written in bot.family's compact stored form through `Registrations.add_many` (pipelined).
Then the scheduler's tick (bot.timed.tick: lease what is due now, fan out batches to the bulk
queue) and 2 real `factsbot worker` processes send the day's due messages with a provider that
accepts instantly (SMS_PROVIDER=null), no rate limit and no quiet hours (the figure must not
depend on the hour it runs). The baseline, measured in the same run on the same workers, is the
one-job-per-message design: the same tick with batches of one. Redis is REDIS_URL or an embedded
Valkey (preferred: memory figures on a shared server are polluted by others). Every key the
bench wrote, and its workers, are gone at the end. The last line is one JSON object.
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import arguments, cleanup, start_workers, stop_workers, wait_for_workers, worker_env  # noqa: E402
from bot import embedded, family, services, timed  # noqa: E402
from bot.schedule import DUE_WEEK, Registration, Series, add_months  # noqa: E402
from bot.store import Registrations  # noqa: E402

COUNTRY = "+2567"  # Ugandan numbers: English, one timezone (UTC+3)
PREGNANT_SHARE = 0.25


def settled(reg: Registration, registered_on: date, today: date, p: timed.Plans) -> family.Family:
    """A family registered on `registered_on` that was sent everything due before `today`."""
    fam = family.register(family.Family(), reg, registered_on)
    while (nxt := family.upcoming(fam, p.planner)) is not None and nxt.day < today:
        fam = family.advance(fam, nxt, p.planner)
    return fam


def anchors(today: date) -> list[Registration]:
    """Every due date of a pregnancy at weeks 4-40 today and every birth date of a child under five."""
    due = [Registration(Series.PREGNANCY, today + timedelta(days=d)) for d in range(0, (DUE_WEEK - 4) * 7)]
    oldest = add_months(today, -60) + timedelta(days=1)
    born = [Registration(Series.BABY, oldest + timedelta(days=d)) for d in range((today - oldest).days + 1)]
    return due + born


def build(svc, n: int, first: int, today: date, rng: random.Random) -> tuple[list[tuple[str, str, float]], int]:
    """`n` families (phone, stored value, next due), and how many of them are due by the end of today."""
    p = timed.plans(svc)
    tz = timed.zone(svc, f"{COUNTRY}00000000")
    cache: dict[Registration, tuple[str, float]] = {}
    pregnancies = [a for a in anchors(today) if a.series is Series.PREGNANCY]
    babies = [a for a in anchors(today) if a.series is Series.BABY]
    end_of_today = timed.due_at(today + timedelta(days=1), tz, p.hours).timestamp()
    rows, due_today = [], 0
    for i in range(first, first + n):
        reg = rng.choice(pregnancies if rng.random() < PREGNANT_SHARE else babies)
        if reg not in cache:
            # Registered at week 8 of the pregnancy, or at birth; never after today.
            start = reg.anchor - timedelta(weeks=DUE_WEEK - 8) if reg.series is Series.PREGNANCY else reg.anchor
            fam = settled(reg, min(start, today), today, p)
            due = timed.next_time(fam, p, tz)
            cache[reg] = (family.encode(fam, p.book), due) if due is not None else ("", 0.0)
        value, due = cache[reg]
        if value:
            rows.append((f"{COUNTRY}{i:08d}", value, due))
            due_today += due < end_of_today
    return rows, due_today


def send_day(svc, now: datetime, batch: int) -> tuple[int, float, float]:
    """Tick at `now` with `batch` families per job and wait until the workers sent them all:
    (messages sent, seconds the tick took, seconds until the last was sent)."""
    r, keys = svc.store.redis, svc.store.keys
    logged = r.xlen(keys.log())
    start = time.perf_counter()
    due = timed.tick(svc, now=now, batch=batch)
    planned = time.perf_counter() - start
    lease = f"{now.timestamp() + timed.LEASE_SECONDS:.0f}"
    deadline = time.monotonic() + 1800
    # Done when every message is in the log (a job records its batch's sends together, after them),
    # or when nobody holds the lease any more and nothing has been logged for five seconds.
    last, still = -1, time.monotonic()
    while (sent := r.xlen(keys.log()) - logged) < due:
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not finish in 30 minutes")
        if sent != last:
            last, still = sent, time.monotonic()
        elif time.monotonic() - still > 5 and not r.zcount(keys.families_due(), lease, lease):
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    assert sent == due, f"{due} families were due, {sent} messages were sent"
    return sent, planned, elapsed


def main() -> None:
    args, n = arguments(__doc__, "registrations", 1_000_000, 100_000, "100,000 registrations",
                        "baseline", "families for the one-job-per-message run")  # fmt: skip

    url = embedded.redis_url(reuse=False)  # REDIS_URL, or a Valkey of its own (never a dev server's data)
    prefix = f"bs{uuid.uuid4().hex[:4]}:"  # short, as a deployment's "factsbot:" is
    env, config = worker_env(url, prefix, QUIET_HOURS="0-0", LOG_MAX_ENTRIES=str(10 * n))
    svc = services.build(config)
    r = svc.store.redis
    rng = random.Random(11)
    now = datetime.now(timezone.utc)
    today = timed.local_day(now, timed.zone(svc, f"{COUNTRY}00000000"))
    if timed.local_day(now + timedelta(minutes=30), timed.zone(svc, f"{COUNTRY}00000000")) != today:
        raise SystemExit("it is nearly midnight in Uganda: run it again in half an hour (the day would change)")

    workers = []
    try:
        start = time.perf_counter()
        rows, due = build(svc, n, 0, today, rng)
        built = time.perf_counter() - start
        before = int(r.info("memory")["used_memory"])
        start = time.perf_counter()
        Registrations(svc.store).add_many(rows)
        written = time.perf_counter() - start
        per_registration = (int(r.info("memory")["used_memory"]) - before) / len(rows)
        print(f"{len(rows):,} registrations planned in {built:.1f} s, written in {written:.1f} s "
              f"({len(rows) / written:,.0f}/s): {per_registration:.0f} bytes of Redis each; {due:,} due today",
              flush=True)  # fmt: skip

        workers = start_workers(env, args.workers)
        wait_for_workers(svc, args.workers)
        sent, planned, elapsed = send_day(svc, now, timed.BATCH)
        rate = sent / elapsed
        plan_per_100k = planned / max(sent, 1) * 100_000
        print(f"batched (tick + {timed.BATCH} families a job, {args.workers} workers): {sent:,} messages in "
              f"{elapsed:.1f} s = {rate:,.0f}/s; the tick took {planned:.2f} s = {plan_per_100k:.2f} s per "
              f"100,000 due", flush=True)  # fmt: skip

        base_n = args.baseline or 500  # a forked work horse per message: slow, so a sample
        base_rows: list = []
        first = n
        while len(base_rows) < base_n:  # only families due today: every one is a message
            more, _ = build(svc, base_n, first, today, rng)
            base_rows += [row for row in more if row[2] <= now.timestamp()][: base_n - len(base_rows)]
            first += base_n
        Registrations(svc.store).add_many(base_rows)
        base_sent, _, base_elapsed = send_day(svc, now, 1)
        base_rate = base_sent / base_elapsed
        print(f"baseline, one RQ job per message: {base_sent:,} in {base_elapsed:.1f} s = {base_rate:,.0f}/s; "
              f"batched is {rate / base_rate:.1f}x", flush=True)  # fmt: skip
    finally:
        stop_workers(workers)
        cleanup(r, prefix)

    summary = {
        "messages_per_s": round(rate, 1),
        "bytes_per_registration": round(per_registration, 1),
        "registrations": len(rows),
        "plan_seconds_per_100k_due": round(plan_per_100k, 3),
        "due_today": sent,
        "baseline_messages_per_s": round(base_rate, 1),
        "ratio": round(rate / base_rate, 2),
        "workers": args.workers,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
