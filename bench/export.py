"""Benchmark: `factsbot export` and `import` at a national size (1M people by default).

    .venv/bin/python bench/export.py [--people 1000000] [--quick]

Seeds N people as the service leaves them (profile hashes, 5% opted out, everyone in one of
50 groups, 30% subscribed with a schedule position, 10% registered), exports them to a file,
imports the file into an empty prefix, and checks the copy has every person. Reports people/s
each way, the file's size, the export's peak memory (constant: it streams) and the server's
bytes per person. Redis is an embedded Valkey of its own unless REDIS_URL is set. The last
line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from bot import backup, embedded, settings  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.keys import Keys  # noqa: E402


def seed(client: redis.Redis, keys: Keys, people: int) -> None:
    now = time.time()
    pipe = client.pipeline(transaction=False)
    for n in range(people):
        phone = f"+2547{n:08d}"
        subs = "malaria" if n % 10 < 3 else ""
        fields = {"lang": "sw" if n % 2 else "en", "country": "KE", "opted_out": "1" if n % 20 == 0 else "0",
                  "subs": subs, "groups": f"g{n % 50}", "last_seen": f"{now:.3f}", "first_seen": f"{now:.3f}",
                  "invalid": "0", "rev": "3"}  # fmt: skip
        pipe.hset(keys.profile(phone), mapping=fields)
        pipe.sadd(keys.group(f"g{n % 50}"), phone)
        if n % 20 == 0:
            pipe.sadd(keys.optouts(), phone)
        if subs:
            member = keys.subscription_member(phone, "malaria")
            pipe.zadd(keys.subscriptions_due(), {member: now + n % 604_800})
            pipe.hset(keys.subscription_positions(), member, n % 8)
        if n % 10 == 9:
            pipe.set(keys.family(phone), json.dumps({"r": [["p", "20261001"]], "s": ["anc-1"]}))
            pipe.zadd(keys.families_due(), {phone: now + n % 86_400})
        if n % 2000 == 1999:
            pipe.execute()
    pipe.sadd(keys.groups(), *(f"g{n}" for n in range(50)))
    pipe.execute()


def store_for(url: str, prefix: str) -> Store:
    config = {**settings.from_env({}), "REDIS_URL": url, "REDIS_PREFIX": prefix}
    return Store(redis.Redis.from_url(url), config)


def profiles(client: redis.Redis, keys: Keys) -> int:
    return sum(1 for _ in client.scan_iter(match=keys.profile_pattern(), count=10_000))


def delete_prefix(client: redis.Redis, prefix: str) -> None:
    batch = []
    for key in client.scan_iter(match=f"{prefix}*", count=10_000):
        batch.append(key)
        if len(batch) >= 10_000:
            client.unlink(*batch)
            batch = []
    if batch:
        client.unlink(*batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 people")
    args = parser.parse_args()
    people = 100_000 if args.quick else args.people
    url = os.environ.get("REDIS_URL") or embedded.redis_url(reuse=False)
    client = redis.Redis.from_url(url)
    source, target = f"bench:{uuid.uuid4().hex[:8]}:", f"bench:{uuid.uuid4().hex[:8]}:"
    memory_before = client.info("memory")["used_memory"]
    started = time.perf_counter()
    seed(client, Keys(source), people)
    seeded = time.perf_counter() - started
    bytes_per_person = (client.info("memory")["used_memory"] - memory_before) / people
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "export.jsonl"
            started, cpu = time.perf_counter(), time.process_time()
            with open(path, "wb") as f:
                written = backup.export(store_for(url, source), f)
            exported, export_cpu = time.perf_counter() - started, time.process_time() - cpu
            rss_export = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            size = path.stat().st_size
            started, cpu = time.perf_counter(), time.process_time()
            with open(path, encoding="utf-8") as f:
                backup.validate_file(f)
            with open(path, encoding="utf-8") as f:
                backup.restore(store_for(url, target), f, checked=True)
            imported, import_cpu = time.perf_counter() - started, time.process_time() - cpu
        old, new = Keys(source), Keys(target)
        copied = profiles(client, new)
        assert copied == people, f"{copied} of {people} people imported"
        assert client.scard(new.optouts()) == client.scard(old.optouts())
        assert client.zcard(new.subscriptions_due()) == client.zcard(old.subscriptions_due())
    finally:
        delete_prefix(client, source)
        delete_prefix(client, target)
    report = {
        "people": people, "seed_s": round(seeded, 1), "bytes_per_person": round(bytes_per_person),
        "export_s": round(exported, 2), "export_people_per_s": round(people / exported),
        "import_s": round(imported, 2), "import_people_per_s": round(people / imported),
        # This process's own CPU seconds: on a busy machine, wall time also counts waiting for a core.
        "export_cpu_s": round(export_cpu, 2), "import_cpu_s": round(import_cpu, 2), "load_average": os.getloadavg()[0],
        "file_mb": round(size / 1e6, 1), "lines": sum(written.values()) + 2,
        "export_peak_rss_growth_mb": round((rss_export - rss_before) / 1024, 1),
    }  # fmt: skip
    print(f"{people:,} people: export {report['export_people_per_s']:,}/s ({exported:.1f} s, "
          f"{report['file_mb']} MB), import {report['import_people_per_s']:,}/s ({imported:.1f} s, validation "
          f"included); {report['bytes_per_person']} bytes per person in Redis")  # fmt: skip
    print(json.dumps(report))


if __name__ == "__main__":
    main()
