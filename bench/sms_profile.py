"""Where an inbound SMS spends its time, stage by stage, in one process.

    .venv/bin/python bench/sms_profile.py

Each stage runs N times against the same Redis the service would use (REDIS_URL, or an
embedded Valkey); a bare Redis GET over redis-py and over a raw socket are printed as the
floor that any Redis round trip costs on this machine.
"""

from __future__ import annotations

import socket
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twilio.request_validator import RequestValidator  # noqa: E402

from bot import conversation, embedded, menu, segments, services, settings, sms  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.channels.twilio import twiml  # noqa: E402

N = 3000


def timed(name: str, fn) -> float:
    start = time.perf_counter()
    for i in range(N):
        fn(i)
    micro = (time.perf_counter() - start) / N * 1e6
    print(f"{name:38} {micro:8.1f} us")
    return micro


def main() -> None:
    url = embedded.redis_url()
    prefix = f"bench-profile:{uuid.uuid4().hex[:8]}:"
    config = {**settings.from_env({}), "REDIS_URL": url, "REDIS_PREFIX": prefix, "FACTSBOT_ENV": "production",
              "TWILIO_AUTH_TOKEN": "t", "SECRET_KEY": "s", "PUBLIC_BASE_URL": "https://x.org",
              "SMS_PROVIDER": "null", "ALLOW_VOLATILE_REDIS": True}  # fmt: skip
    svc = services.build(config)
    client = create_app(config).test_client()
    r = svc.store.redis
    form = {"MessageSid": "SM" + "a" * 32, "From": "+254712345678", "Body": "MORE", "To": "+1"}
    signature = RequestValidator("t").compute_signature("https://x.org/sms/twilio", form)
    here = menu.Session(menu.State.MESSAGE, topic="malaria")
    profile = menu.Profile(lang="en", country="KE")
    host = urlparse(url)

    print("floor")
    timed("redis-py GET", lambda i: r.get("x"))
    raw = socket.create_connection((host.hostname, host.port or 6379))
    timed("raw socket GET", lambda i: (raw.sendall(b"*2\r\n$3\r\nGET\r\n$1\r\nx\r\n"), raw.recv(64)))
    raw.close()
    print("stages")
    timed("signature check (RequestValidator)", lambda i: RequestValidator("t").validate("https://x.org/sms/twilio",
                                                                                      form, signature))  # fmt: skip
    key = svc.store.keys.session("+254712345678")
    timed(
        "store.load (1 round trip)",
        lambda i: svc.store.load("+254712345678", key, svc.store.keys.dedupe("sms", f"SM{i}")),
    )
    timed("engine MORE -> detail", lambda i: svc.sms_engine().answer_text(here, profile, "MORE"))
    timed("engine unknown text (fuzzy match)", lambda i: svc.sms_engine().answer_text(here, profile, "blah"))
    details = [m.detail for t in svc.catalog.language("en").topics for m in t.messages]
    hindi = [m.detail for t in svc.catalog.language("hi").topics for m in t.messages]
    timed("segments.split a detail (English)", lambda i: segments.split(details[i % len(details)], more_marker="MORE"))
    timed("segments.split a detail (Hindi)", lambda i: segments.split(hindi[i % len(hindi)], more_marker="MORE"))
    # split remembers its answers per process; compute_split is the work a new text costs.
    sms_limits = {segments.GSM7: 160, segments.UCS2: 70}
    timed(
        "  the same, not remembered (English)",
        lambda i: segments.compute_split(details[i % len(details)], sms_limits, 3, "MORE", " "),
    )
    timed(
        "  the same, not remembered (Hindi)",
        lambda i: segments.compute_split(hindi[i % len(hindi)], sms_limits, 3, "MORE", " "),
    )
    timed("TwiML for two parts", lambda i: twiml(("a" * 150, "b" * 100)))
    timed("sms.handle (2 round trips)", lambda i: sms.handle(
        svc, conversation.Inbound(f"+2547{i % 50:08d}", "MORE", "sms", f"SM{uuid.uuid4().hex}")))  # fmt: skip

    def post(i: int):
        signed = {**form, "MessageSid": f"SM{uuid.uuid4().hex}", "From": f"+2547{i % 50:08d}"}
        sig = RequestValidator("t").compute_signature("https://x.org/sms/twilio", signed)
        response = client.post("/sms/twilio", data=signed, headers={"X-Twilio-Signature": sig})
        assert response.status_code == 200

    timed("whole webhook incl. signing, test client", post)
    keys = list(r.scan_iter(match=f"{prefix}*"))
    if keys:
        r.delete(*keys)


if __name__ == "__main__":
    main()
