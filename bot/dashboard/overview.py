"""The overview: today, 7 and 30 days of traffic, people and delivery, with charts.

Figures are rolled up per day from the message log, incrementally, when this page is
viewed: the inbound path pays nothing, and a view reads at most ROLLUP_SECONDS of new
entries (a page that is behind says so and catches up on the next view).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from flask import Blueprint, render_template

from bot import services, stages
from bot.dashboard import charts
from bot.dashboard.access import protect
from bot.dashboard.figures import days_ending, summary, tally, top_topics
from bot.dashboard.logfilter import id_key
from bot.store import Broadcasts, DailyFigures, LogQuery, Registrations, Store

bp = protect(Blueprint("dashboard_overview", __name__, url_prefix="/dashboard"))

ROLLUP_SECONDS = 1.0
"""Longest one page view spends counting new log entries."""
ROLLUP_CHUNK = 5000
WINDOWS = (("Today", 1), ("7 days", 7), ("30 days", 30))


def catch_up(store: Store, now: float, budget: float = ROLLUP_SECONDS) -> bool:
    """Count log entries newer than the roll-up's cursor into the per-day figures; True when up to date."""
    daily = DailyFigures(store)
    if not daily.lock(int(budget * 1000) + 10_000):
        return True  # another request is counting right now
    try:
        query = LogQuery(store)
        floor = f"{int((now - 31 * 86_400) * 1000)}-0"  # older entries are outside every window
        cursor = daily.cursor()
        if not cursor or id_key(cursor) < id_key(floor):
            cursor = floor
        deadline = time.monotonic() + budget
        while True:
            rows = query.oldest_first(ROLLUP_CHUNK, cursor)
            if rows:
                counts, people = tally(rows)
                cursor = rows[-1][0]
                daily.add(counts, people, cursor)
            if len(rows) < ROLLUP_CHUNK:
                return True
            if time.monotonic() > deadline:
                return False
    finally:
        daily.unlock()


@bp.get("/")
def index():
    svc = services.get()
    caught_up = catch_up(svc.store, time.time())
    days = days_ending(datetime.now(timezone.utc).date(), 30)
    per_day, unique = DailyFigures(svc.store).read(days, [n for _, n in WINDOWS])
    windows = [(name, summary(per_day[-n:], people)) for (name, n), people in zip(WINDOWS, unique, strict=True)]
    traffic = charts.daily(days, {"in": [d.get("in", 0) for d in per_day], "out": [d.get("out", 0) for d in per_day]})
    labels = {t.id: t.label for t in svc.catalog.language("en").topics}
    topics = charts.ranked([(labels.get(t, t), n) for t, n in top_topics(per_day)])
    since = time.time() - 30 * 86_400
    recent = [b for b in Broadcasts(svc.store).recent(200) if float(b.get("created_at") or 0) >= since]
    delivered = sum(int(b.get("delivered") or 0) for b in recent)
    sent = sum(int(b.get("sent") or 0) for b in recent)
    durability = svc.persistence.warning() if svc.persistence else ""
    wait_timeouts = [(name, svc.store.replicated.timeouts(n)) for name, n in WINDOWS]
    # Counted per due date or birth date as registrations change (bot/store/registrations.py): a few
    # thousand fields at most, read in one round trip and placed in today's stages here.
    by_stage = stages.by_stage(Registrations(svc.store).stage_counts(), datetime.now(timezone.utc).date())
    return render_template("dashboard/overview.html", windows=windows, traffic=traffic, topics=topics,
                           caught_up=caught_up, delivered=delivered, sent=sent, broadcasts=len(recent),
                           durability=durability, wait_timeouts=wait_timeouts,
                           waits=svc.store.replicated.replicas, by_stage=by_stage)  # fmt: skip
