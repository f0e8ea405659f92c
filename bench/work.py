"""Benchmark: the Python work one inbound SMS costs, counted instead of timed (same on any machine).

    .venv/bin/python bench/work.py [--messages 300] [--app both|ours|floor] [--no-count]

Runs factsbot's /sms/twilio and the same-I/O floor (bench/floor_app.py) in this process through
Flask's test client, against the same Redis (REDIS_URL, or an embedded Valkey), with the signed
messages bench/sms.py sends (Kenyan numbers walking its script). With counting on, every
bytecode instruction the interpreter runs while a message is handled is counted (sys.settrace
with opcode events), per function; the figures are per message, and the last line is one JSON
object with the floor/ours ratio. The throughput benchmark (bench/sms.py) moves with this
machine's speed from one minute to the next; these counts do not, so a change's effect on the
work per message can be seen even when it hides in that noise.

With --no-count the messages are only sent: run it under a profiler of your choice, e.g.
`valgrind --tool=callgrind .venv/bin/python bench/work.py --app ours --no-count`, and
subtract a run with --messages 0 (start-up) to get machine instructions per message.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sms import SCRIPT, TOKEN, cleanup, floor_app, signed_sms  # noqa: E402
from bot import embedded, settings  # noqa: E402
from bot.app import create_app  # noqa: E402

WARM = 200  # messages each app answers first: connections, scripts, caches


def signed(index: int, phones: list[str]) -> tuple[dict, str]:
    """The index-th message: phones in turn, each walking bench/sms.py's script."""
    body = SCRIPT[(index // len(phones)) % len(SCRIPT)]
    return signed_sms("http://localhost/sms/twilio", phones[index % len(phones)], body)


class Counter:
    """Bytecode instructions run per function while tracing is on."""

    def __init__(self) -> None:
        self.opcodes: collections.Counter = collections.Counter()
        self.calls: collections.Counter = collections.Counter()

    def __enter__(self) -> Counter:
        sys.settrace(self.trace)
        return self

    def __exit__(self, *exc) -> None:
        sys.settrace(None)

    def trace(self, frame, event, arg):
        frame.f_trace_opcodes = True
        code = frame.f_code
        where = f"{code.co_filename.split('site-packages/')[-1].replace(str(ROOT) + '/', '')}:{code.co_name}"
        self.calls[where] += 1
        opcodes = self.opcodes

        def local(frame, event, arg):
            if event == "opcode":
                opcodes[where] += 1
            return local

        return local


def run(client, messages: list[tuple[dict, str]], count: bool) -> Counter | None:
    counter = Counter() if count else None
    with counter or contextlib.nullcontext():
        for form, signature in messages:
            response = client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": signature})
            assert response.status_code == 200 and b"<Message>" in response.data, response.data
    return counter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--app", choices=("both", "ours", "floor"), default="both")
    parser.add_argument("--no-count", action="store_true", help="only send the messages (for an outside profiler)")
    args = parser.parse_args()

    redis_url = embedded.redis_url()
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    env = {"FACTSBOT_ENV": "production", "TWILIO_AUTH_TOKEN": TOKEN, "SECRET_KEY": "bench", "REDIS_URL": redis_url,
           "REDIS_PREFIX": prefix, "SMS_PROVIDER": "null", "AT_CALLBACK_TOKEN": TOKEN, "VOICE_ENABLED": "false",
           "ALLOW_VOLATILE_REDIS": os.environ.get("ALLOW_VOLATILE_REDIS") or "true"}  # fmt: skip
    phones = [f"+2547{n:08d}" for n in range(WARM)]
    apps = {}
    if args.app in ("both", "floor"):
        apps["floor"] = floor_app(env).test_client()
    if args.app in ("both", "ours"):
        apps["ours"] = create_app(settings.from_env(env)).test_client()
    results = {}
    try:
        for name, client in apps.items():
            run(client, [signed(i, phones) for i in range(WARM)], count=False)
            messages = [signed(WARM + i, phones) for i in range(args.messages)]
            counter = run(client, messages, count=not args.no_count)
            if counter is not None and args.messages:
                results[name] = counter
    finally:
        cleanup(redis_url, prefix)
    if not results:
        return
    n = args.messages
    for name, counter in results.items():
        print(f"{name:5}: {sum(counter.opcodes.values()) / n:8.0f} bytecodes, "
              f"{sum(counter.calls.values()) / n:6.0f} Python calls per message")  # fmt: skip
    summary: dict[str, object] = {name: round(sum(c.opcodes.values()) / n) for name, c in results.items()}
    if len(results) == 2:
        ours, floor = results["ours"].opcodes, results["floor"].opcodes
        summary["floor_ratio"] = round(sum(floor.values()) / sum(ours.values()), 3)
        extra = sorted(set(ours) | set(floor), key=lambda k: floor[k] - ours[k])[:15]
        print(f"floor/ours: {summary['floor_ratio']} (the floor's bytecodes per message over ours)")
        print("where ours does more (bytecodes per message, ours - floor):")
        for where in extra:
            print(f"  {(ours[where] - floor[where]) / n:7.0f}  {where}")
    summary["messages"] = n
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
