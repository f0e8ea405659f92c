"""Benchmark: the dashboard's message log with a million entries, rendered server-side.

    .venv/bin/python bench/dashboard.py [--entries 1000000] [--people 50000] [--runs 20]

Fills a fresh key prefix's log with ENTRIES messages over the last 30 days (XADD in
pipelines, with the per-person index the store keeps), then times, through the Flask test
client logged in as a viewer, the first page of /dashboard/messages and a page filtered by
one full number: the median of RUNS requests each, whole request to rendered HTML. Redis is
REDIS_URL or an embedded Valkey; every key the benchmark made is deleted at the end.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import embedded, settings  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.dashboard import accounts  # noqa: E402

BATCH = 10_000
TEXTS = ("hi", "10", "MORE", "4", "NEXT", "MENU", "STOP", "Habari, naomba ushauri kuhusu chanjo ya mtoto")


def phone(n: int) -> str:
    return f"+2547{n:08d}"


def fill(r, keys, entries: int, people: int) -> None:
    """ENTRIES messages, oldest first, spread evenly over 30 days; every 4th one an outbound reply."""
    now_ms = int(time.time() * 1000)
    start = now_ms - 30 * 86_400_000
    step = max((now_ms - start) // entries, 1)
    for first in range(0, entries, BATCH):
        pipe = r.pipeline(transaction=False)
        for i in range(first, min(first + BATCH, entries)):
            number = phone(i % people)
            entry_id = f"{start + i * step}-0"
            if i % 4 == 3:
                fields = {"direction": "out", "channel": "sms", "phone": number, "event": "message",
                          "topic": "malaria", "message": "malaria-1", "parts": "1", "status": "sent",
                          "text": "Malaria 1/4: Mosquitoes spread malaria mostly at night."}  # fmt: skip
            else:
                fields = {"direction": "in", "channel": "ussd" if i % 10 == 0 else "sms", "phone": number,
                          "text": TEXTS[i % len(TEXTS)], "event": "menu", "message_id": f"SM{i:032x}"}  # fmt: skip
            pipe.xadd(keys.log(), fields, id=entry_id)
            pipe.zadd(keys.log_index(number), {entry_id: start + i * step})
        pipe.execute()


def timed(client, path: str, runs: int) -> tuple[float, str]:
    times = []
    body = ""
    for _ in range(runs):
        t = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.status_code
        body = response.text
    return statistics.median(times), body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    prefix = f"bench-dash-{uuid.uuid4().hex[:6]}:"
    config = {**settings.from_env({}), "REDIS_URL": embedded.redis_url(), "REDIS_PREFIX": prefix,
              "SECRET_KEY": "bench", "TWILIO_AUTH_TOKEN": "bench", "SMS_PROVIDER": "record",
              "SMS_RECORD_PATH": "/dev/null"}  # fmt: skip
    app = create_app(config)
    store = app.extensions["factsbot"].store
    r = store.redis
    try:
        t = time.perf_counter()
        fill(r, store.keys, args.entries, args.people)
        print(f"filled {r.xlen(store.keys.log()):,} entries for {args.people:,} numbers "
              f"in {time.perf_counter() - t:.1f} s", file=sys.stderr)  # fmt: skip
        accounts.create(store, "viewer@example.org", "viewer", "benchmark password", by="bench",
                        method="pbkdf2:sha256:1000")  # fmt: skip
        client = app.test_client()
        page = client.get("/dashboard/login").text
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)
        form = {"email": "viewer@example.org", "password": "benchmark password", "csrf_token": token}
        login = client.post("/dashboard/login", data=form)
        assert login.status_code == 302, login.status_code
        client.get("/dashboard/messages")  # warm-up: templates compiled, connections open

        first_ms, body = timed(client, "/dashboard/messages", args.runs)
        assert body.count('<tr class="dir-') == 50
        number = phone(12_345 % args.people)
        by_number_ms, body = timed(client, "/dashboard/messages?number=" + number.replace("+", "%2B"), args.runs)
        rows = body.count('<tr class="dir-')
        digits_ms, body = timed(client, "/dashboard/messages?number=12345&direction=out", max(args.runs // 4, 1))
        print(f"first page of the log:      {first_ms:7.1f} ms (median of {args.runs})")
        print(f"page filtered by a number:  {by_number_ms:7.1f} ms (median of {args.runs}, {rows} rows)")
        print(f"last digits (scan budget):  {digits_ms:7.1f} ms (scans at most 20,000 entries per page)")
        print(json.dumps({"first_page_ms": round(first_ms, 1), "by_number_ms": round(by_number_ms, 1),
                          "entries": args.entries}))  # fmt: skip
    finally:
        keys = list(r.scan_iter(match=f"{prefix}*", count=5000))
        for i in range(0, len(keys), 5000):
            r.delete(*keys[i : i + 5000])


if __name__ == "__main__":
    main()
