"""Benchmark: inbound SMS (or USSD, or voice calls) through factsbot under gunicorn vs two baselines.

    .venv/bin/python bench/sms.py [--quick] [--channel ussd|voice]

Baselines, measured in the same run: "bare", a Flask endpoint answering a constant; and for
SMS and voice the "floor" (bench/floor_app.py), the same I/O without the menu: form parsing,
the signature check, one read pipeline and one Lua write of the same keys, TwiML from the
twilio package (for voice: a Gather of spoken prompts). Voice callers are Ugandan numbers, so
the line speaks English with Twilio's text-to-speech (no recordings needed); each walks a call
of keypresses (menu, a topic, why, next, repeat, back, more topics) and calls again.
Every app runs under identical gunicorn settings against the same Redis
(REDIS_URL, or an embedded Valkey). Rounds rotate through the apps so machine noise hits
each; the figures are medians over rounds, and the floor ratio is also given as the median of
each round's own ratio (ours against the floor measured just before it). Beside throughput, which
shares the machine's two cores with the clients, it reports the CPU each app and Redis spent per
answered request (gunicorn's processes from /proc, Redis from INFO), which client load and
scheduling noise move far less. Simulated phones walk whole conversations, each
message with its own MessageSid and a valid X-Twilio-Signature. Redis round trips per
message are counted on the wire, through the real endpoint. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

from bot import embedded, settings  # noqa: E402
from bot.app import create_app  # noqa: E402

TOKEN = "bench-auth-token"
SCRIPT = ["hi", "3", "MORE", "NEXT", "MORE", "BACK", "malaria", "MORE", "NEXT", "2", "MENU", "MORE", "14", "HELP",
          "diarrhea", "NEXT", "NEXT", "0", "9", "MORE"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(app: str, port: int, env: dict, workers: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
           "--log-level", "warning", app]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"gunicorn for {app} did not start")


def signed_sms(url: str, phone: str, body: str) -> tuple[dict[str, str], str]:
    """A Twilio inbound SMS form, a new MessageSid each time, and its X-Twilio-Signature for `url`."""
    form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "From": phone,
            "To": "+254700000000", "Body": body, "NumMedia": "0"}  # fmt: skip
    return form, RequestValidator(TOKEN).compute_signature(url, form)


def request_bytes(port: int, phone: str, body: str) -> bytes:
    """A signed Twilio inbound SMS."""
    form, signature = signed_sms(f"http://127.0.0.1:{port}/sms/twilio", phone, body)
    payload = urlencode(form).encode()
    head = (
        f"POST /sms/twilio HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(payload)}\r\nX-Twilio-Signature: {signature}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + payload


USSD_SCRIPT = ["10", "1", "2", "1", "0", "3", "2", "00", "98"]


def ussd_request_bytes(port: int, phone: str, step: int) -> bytes:
    """One press in a USSD session: the whole path so far, as Africa's Talking sends it."""
    session, position = divmod(step, len(USSD_SCRIPT) + 1)
    form = {"sessionId": f"ATUid_{phone[1:]}_{session}", "serviceCode": "*384*1234#", "phoneNumber": phone,
            "networkCode": "63902", "text": "*".join(USSD_SCRIPT[:position])}  # fmt: skip
    payload = urlencode(form).encode()
    head = (
        f"POST /ussd/africastalking?token={TOKEN} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(payload)}\r\n"
        f"Connection: close\r\n\r\n"
    )
    return head.encode() + payload


# One call: the first request has no Digits, then the keys pressed (a topic, why, next, *, back, menu, more...).
VOICE_SCRIPT = [None, "1", "1", "2", "*", "2", "0", "9", "8", "3", "1", "9", "7", "1"]
CALLS = {"run": uuid.uuid4().hex[:8]}  # new in each client process: a round's calls are new calls


def voice_form(phone: str, step: int) -> dict:
    call, position = divmod(step, len(VOICE_SCRIPT))
    form = {"CallSid": f"CA{CALLS['run']}{phone[1:]}x{call}", "AccountSid": "AC" + "0" * 32, "From": phone,
            "To": "+15005550006", "CallStatus": "in-progress", "Direction": "inbound"}  # fmt: skip
    if VOICE_SCRIPT[position] is not None:
        form["Digits"] = VOICE_SCRIPT[position]
    return form


def voice_request_bytes(port: int, phone: str, step: int) -> bytes:
    """One request of a Twilio voice call, signed as Twilio signs it."""
    form = voice_form(phone, step)
    signature = RequestValidator(TOKEN).compute_signature(f"http://127.0.0.1:{port}/voice/twilio", form)
    payload = urlencode(form).encode()
    head = (
        f"POST /voice/twilio HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(payload)}\r\nX-Twilio-Signature: {signature}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + payload


def build(channel: str, port: int, phone: str, step: int, phones: int) -> bytes:
    if channel == "ussd":
        return ussd_request_bytes(port, phone, step // phones)
    if channel == "voice":
        return voice_request_bytes(port, phone, step // phones)
    return request_bytes(port, phone, SCRIPT[(step // phones) % len(SCRIPT)])


SUCCESS = {"sms": b"<Message>", "ussd": b"\r\n\r\nCON ", "voice": b"<Gather "}


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc: gunicorn's master and its workers."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(proc: subprocess.Popen, redis_client) -> tuple[float, float]:
    """CPU seconds so far of a gunicorn (master and workers), and of the Redis server."""
    try:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    except OSError:
        children = []
    info = redis_client.info("cpu")
    return sum(process_cpu(p) for p in (proc.pid, *map(int, children))), info["used_cpu_sys"] + info["used_cpu_user"]


def one_request(port: int, data: bytes, channel: str = "sms") -> tuple[float, bool]:
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    ok = response.startswith(b"HTTP/1.1 200") and SUCCESS[channel] in response
    return time.perf_counter() - start, ok


def client_process(port: int, phones: list[str], threads: int, seconds: float, out: mp.Queue, channel: str) -> None:
    began = time.time()  # wall clock, comparable across the client processes
    CALLS["run"] = uuid.uuid4().hex[:8]
    stop_at = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def loop(mine: list[str], offset: int) -> None:
        step, local, bad = offset, [], 0
        while time.perf_counter() < stop_at:
            phone = mine[step % len(mine)]
            elapsed, ok = one_request(port, build(channel, port, phone, step, len(mine)), channel)
            local.append(elapsed)
            bad += not ok
            step += 1
        with lock:
            latencies.extend(local)
            errors[0] += bad

    share = [phones[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=loop, args=(share[i], 0)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((latencies, errors[0], began, time.time()))


def measure(port: int, phones: list[str], seconds: float, processes: int, threads: int, channel: str = "sms") -> dict:
    out: mp.Queue = mp.Queue()
    per = [phones[i::processes] for i in range(processes)]
    procs = [mp.Process(target=client_process, args=(port, per[i], threads, seconds, out, channel))
             for i in range(processes)]  # fmt: skip
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    # The clients' own busy window: process start-up and handing results back are not requests.
    wall = max(r[3] for r in results) - min(r[2] for r in results)
    latencies = sorted(x for lat, *_ in results for x in lat)
    errors = sum(r[1] for r in results)
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": (len(latencies) - errors) / wall,  # answered requests only: fast failures must not count
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


class Wire:
    """Counts Redis round trips in this process: one per packed send (a pipeline sends once).

    Instruments redis-py's connection, not factsbot, so it counts whatever the code under test does.
    """

    sends = 0

    def __enter__(self) -> Wire:
        import redis.connection

        self.cls = redis.connection.AbstractConnection
        self.original = original = self.cls.send_packed_command

        def counted(conn, command, check_health=True):
            Wire.sends += 1
            return original(conn, command, check_health)

        self.cls.send_packed_command = counted
        return self

    def __exit__(self, *exc) -> None:
        self.cls.send_packed_command = self.original


def sms_round_trips(config: dict, wsgi_app, messages: int = 400) -> float:
    """Redis round trips per inbound SMS through an app's real /sms/twilio endpoint."""
    client = wsgi_app.test_client()
    phone = "+254799999999"

    def send(body: str) -> None:
        form, signature = signed_sms("http://localhost/sms/twilio", phone, body)
        response = client.post("/sms/twilio", data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200 and b"<Message>" in response.data, response.data

    with Wire():
        send("hi")  # the first call loads the Lua scripts and connects
        before = Wire.sends
        for n in range(messages):
            send(SCRIPT[n % len(SCRIPT)])
        return (Wire.sends - before) / messages


def ussd_round_trips(config: dict, screens: int = 300) -> float:
    """Redis round trips per USSD request, counted on the wire through the real endpoint."""
    client = create_app(config).test_client()
    path = f"/ussd/africastalking?token={TOKEN}"
    with Wire():
        warm = client.post(path, data={"sessionId": "warm", "phoneNumber": "+254799999998", "text": ""})
        assert warm.status_code == 200, warm.data
        before = Wire.sends
        for n in range(screens):
            data = ussd_request_bytes(0, "+254799999998", n).split(b"\r\n\r\n", 1)[1].decode()
            response = client.post(path, data=data, content_type="application/x-www-form-urlencoded")
            assert response.status_code == 200, response.data
        return (Wire.sends - before) / screens


def voice_round_trips(config: dict, wsgi_app, requests: int = 280) -> float:
    """Redis round trips per voice request (whole calls), counted on the wire through an app's /voice/twilio."""
    client = wsgi_app.test_client()
    phone = "+256799999999"

    def post(step: int) -> None:
        form = voice_form(phone, step)
        signature = RequestValidator(TOKEN).compute_signature("http://localhost/voice/twilio", form)
        response = client.post("/voice/twilio", data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200 and b"<Gather " in response.data, response.data

    with Wire():
        post(0)  # the first call loads the Lua scripts and connects
        before = Wire.sends
        for n in range(len(VOICE_SCRIPT), len(VOICE_SCRIPT) + requests):
            post(n)
        return (Wire.sends - before) / requests


def floor_app(env: dict):
    """bench/floor_app.py's app, in this process (it reads its settings from the environment at import)."""
    os.environ.update({k: env[k] for k in ("REDIS_URL", "REDIS_PREFIX", "TWILIO_AUTH_TOKEN")})
    from bench import floor_app as module

    return module.app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="about a minute instead of a few minutes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for every app")
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--channel", choices=("sms", "ussd", "voice"), default="sms",
                        help="SMS webhook, USSD sessions or voice calls")  # fmt: skip
    args = parser.parse_args()
    channel = args.channel
    # Many short rounds rather than a few long ones: this machine's speed drifts over tens of
    # seconds, and each round's ratio compares two apps measured seconds apart.
    rounds, seconds = (4, 4.0) if args.quick else (15, 5.0)
    processes, threads = 2, 8

    redis_url = embedded.redis_url()
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    # The embedded Valkey is a throwaway server with nothing on disk: production mode must accept it here.
    volatile = os.environ.get("ALLOW_VOLATILE_REDIS") or ("" if os.environ.get("REDIS_URL") else "true")
    env = {**os.environ, "ALLOW_VOLATILE_REDIS": volatile, "FACTSBOT_ENV": "production", "TWILIO_AUTH_TOKEN": TOKEN,
           "SECRET_KEY": "bench", "REDIS_URL": redis_url, "REDIS_PREFIX": prefix, "PYTHONPATH": str(ROOT),
           "SMS_PROVIDER": "null", "AT_CALLBACK_TOKEN": TOKEN,
           "VOICE_ENABLED": "true" if channel == "voice" else "false"}  # fmt: skip
    passed = ("FACTSBOT_ENV", "TWILIO_AUTH_TOKEN", "SECRET_KEY", "REDIS_URL", "REDIS_PREFIX", "SMS_PROVIDER",
              "AT_CALLBACK_TOKEN", "VOICE_ENABLED")  # fmt: skip
    # A machine's Redis without persistence (ALLOW_VOLATILE_REDIS) is fine for a benchmark; pass the choice on.
    config = settings.from_env({k: env.get(k, "") for k in (*passed, "ALLOW_VOLATILE_REDIS")})
    apps = {"bare": "bench.bare_app:app", "ours": "bot.app:create_app()"}
    if channel == "sms":
        apps = {"bare": apps["bare"], "floor": "bench.floor_app:app", "ours": apps["ours"]}
        trips = sms_round_trips(config, create_app(config))
        floor_trips = sms_round_trips(config, floor_app(env))
    elif channel == "voice":
        apps = {"bare": apps["bare"], "floor": "bench.floor_app:app", "ours": apps["ours"]}
        trips = voice_round_trips(config, create_app(config))
        floor_trips = voice_round_trips(config, floor_app(env))
    else:
        trips, floor_trips = ussd_round_trips(config), None

    import redis

    redis_client = redis.Redis.from_url(redis_url)
    servers = {}
    results: dict[str, list[dict]] = {name: [] for name in apps}
    # Kenyan numbers (Kiswahili first); Ugandan ones for voice, whose English Twilio speaks without recordings.
    phones = [f"+2567{n:08d}" if channel == "voice" else f"+2547{n:08d}" for n in range(args.phones)]
    try:
        for name, wsgi in apps.items():
            port = free_port()
            servers[name] = (port, start_gunicorn(wsgi, port, env, args.workers))
        for port, _ in servers.values():
            measure(port, phones, 1.0, processes, threads, channel)  # warm up
        for r in range(rounds):
            for name, (port, _) in servers.items():
                cpu_before = server_cpu(servers[name][1], redis_client)
                m = measure(port, phones, seconds, processes, threads, channel)
                app_cpu, redis_cpu = (
                    after - before
                    for after, before in zip(server_cpu(servers[name][1], redis_client), cpu_before, strict=True)
                )
                m["app_cpu_us"], m["redis_cpu_us"] = (1e6 * cpu / max(1, m["requests"]) for cpu in (app_cpu, redis_cpu))
                m["cpu_us"] = m["app_cpu_us"] + m["redis_cpu_us"]
                results[name].append(m)
                print(f"round {r + 1} {name:5}: {m['rps']:7.0f} req/s  p50 {m['p50_ms']:.2f} ms  "
                      f"p99 {m['p99_ms']:.2f} ms  CPU/req app {m['app_cpu_us']:.0f} us Redis {m['redis_cpu_us']:.0f} us"
                      f"  errors {m['errors']}", flush=True)  # fmt: skip
    finally:
        for _, proc in servers.values():
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
        cleanup(redis_url, prefix)

    def median(name: str, key: str) -> float:
        return statistics.median(m[key] for m in results[name])

    def paired(name: str, key: str, inverse: bool = False) -> float | None:
        """The median over rounds of ours against `name` in the same round."""
        if name not in apps:
            return None
        pairs = [(o[key], b[key]) for o, b in zip(results["ours"], results[name], strict=True)]
        return round(statistics.median((b / o) if inverse else (o / b) for o, b in pairs), 3)

    summary = {
        "channel": channel,
        "ratio": round(median("ours", "rps") / median("bare", "rps"), 3),
        "floor_ratio": round(median("ours", "rps") / median("floor", "rps"), 3) if "floor" in apps else None,
        "floor_ratio_paired": paired("floor", "rps"),
        "floor_cpu_ratio": paired("floor", "cpu_us", inverse=True),  # floor's CPU per request / ours
        "cpu_us": round(median("ours", "cpu_us")),
        "floor_cpu_us": round(median("floor", "cpu_us")) if "floor" in apps else None,
        "bare_cpu_us": round(median("bare", "cpu_us")),
        "app_cpu_us": round(median("ours", "app_cpu_us")),
        "redis_cpu_us": round(median("ours", "redis_cpu_us")),
        "floor_app_cpu_us": round(median("floor", "app_cpu_us")) if "floor" in apps else None,
        "floor_redis_cpu_us": round(median("floor", "redis_cpu_us")) if "floor" in apps else None,
        "rps": round(median("ours", "rps"), 1),
        "bare_rps": round(median("bare", "rps"), 1),
        "floor_rps": round(median("floor", "rps"), 1) if "floor" in apps else None,
        "p50_ms": round(median("ours", "p50_ms"), 2),
        "p99_ms": round(median("ours", "p99_ms"), 2),
        "bare_p50_ms": round(median("bare", "p50_ms"), 2),
        "bare_p99_ms": round(median("bare", "p99_ms"), 2),
        "redis_roundtrips_per_message": round(trips, 3),
        "floor_redis_roundtrips_per_message": None if floor_trips is None else round(floor_trips, 3),
        "requests": sum(m["requests"] for m in results["ours"]),
        "errors": sum(m["errors"] for runs in results.values() for m in runs),
        "rounds": rounds,
        "seconds_per_round": seconds,
        "gunicorn_workers": args.workers,
        "client": f"{processes} processes x {threads} threads, new connection per request",
    }
    print(f"ours {summary['rps']:.0f} req/s vs bare Flask {summary['bare_rps']:.0f} req/s: ratio {summary['ratio']}")
    if summary["floor_ratio"] is not None:
        print(
            f"ours {summary['rps']:.0f} req/s vs the same-I/O floor {summary['floor_rps']:.0f} req/s: "
            f"ratio {summary['floor_ratio']} (median of each round's ratio {summary['floor_ratio_paired']})"
        )
        print(
            f"server CPU per request (gunicorn + Redis): ours {summary['cpu_us']} us "
            f"({summary['app_cpu_us']} + {summary['redis_cpu_us']}), floor {summary['floor_cpu_us']} us "
            f"({summary['floor_app_cpu_us']} + {summary['floor_redis_cpu_us']}), bare {summary['bare_cpu_us']} us; "
            f"floor/ours {summary['floor_cpu_ratio']}"
        )
    print(
        f"ours p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms; "
        f"Redis round trips per inbound message: {summary['redis_roundtrips_per_message']}"
        + (f" (floor {summary['floor_redis_roundtrips_per_message']})" if floor_trips is not None else "")
    )
    print(json.dumps(summary))
    if summary["errors"]:
        print(f"{summary['errors']} requests failed; the figures above are not valid", file=sys.stderr)
        sys.exit(1)


def cleanup(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for i in range(0, len(keys), 1000):
        client.delete(*keys[i : i + 1000])


if __name__ == "__main__":
    main()
