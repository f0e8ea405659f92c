"""Redis round trips per subscription tip, counted on the wire (not a timing: counts do not drift).

    .venv/bin/python bench/drip_roundtrips.py

Twenty subscribers are due at once; one drip tick sends each a tip through the null provider.
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import conversation, embedded, services, settings, sms, subscriptions  # noqa: E402
from bot.store import CountingConnection, counting_client  # noqa: E402

PEOPLE = 20


def main() -> None:
    url = embedded.redis_url()
    prefix = f"bench-drip:{uuid.uuid4().hex[:8]}:"
    config = {**settings.from_env({}), "REDIS_URL": url, "REDIS_PREFIX": prefix, "SMS_PROVIDER": "null",
              "SMS_MPS": 0, "QUIET_HOURS": "0-0"}  # fmt: skip
    svc = services.build(config, counting_client(url))
    phones = [f"+2567000{n:05d}" for n in range(PEOPLE + 1)]
    keys = svc.store.keys
    members = {keys.subscription_member(p, "malaria"): 0 for p in phones}
    due = lambda: svc.store.redis.zadd(keys.subscriptions_due(), members)  # noqa: E731
    for n, phone in enumerate(phones):
        sms.handle(svc, conversation.Inbound(phone, "JOIN MALARIA", "sms", f"SMjoin{n}"))
    due()
    subscriptions.tick(svc, now=datetime.now(timezone.utc))  # loads the scripts into the server once
    due()
    before = CountingConnection.sends
    sent = subscriptions.tick(svc, now=datetime.now(timezone.utc))
    per_tip = (CountingConnection.sends - before) / sent
    print(f"{sent} tips, {per_tip:.2f} Redis round trips each (the tick's own claim included)")
    print(json.dumps({"tips": sent, "roundtrips_per_tip": round(per_tip, 2)}))
    keys = list(svc.store.redis.scan_iter(match=f"{prefix}*"))
    if keys:
        svc.store.redis.delete(*keys)


if __name__ == "__main__":
    main()
