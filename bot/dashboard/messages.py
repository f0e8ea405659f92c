"""The message log: newest first, filtered, paged by stream id, exported as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Blueprint, Response, render_template, request

from bot import services
from bot.dashboard.access import protect
from bot.dashboard.logfilter import (
    CHANNELS,
    DIRECTIONS,
    EVENTS,
    STATUSES,
    Filter,
    Page,
    Row,
    collect,
    id_key,
    older_than,
    stream_id,
)
from bot.phones import mask
from bot.store import LogQuery

bp = protect(Blueprint("dashboard_messages", __name__, url_prefix="/dashboard"))

PAGE_SIZE = 50
CHUNK = 1000
"""Entries read per round trip once the first, page-sized read did not fill the page."""
SCAN_BUDGET = 20_000
"""Entries one page request reads at most (about 100 ms): the rest is offered as "continue"."""
EXPORT_MAX = 100_000
"""Rows in one CSV export: a bigger one is asked for with a narrower filter (e.g. dates)."""
CSV_COLUMNS = ("time", "id", "direction", "channel", "number", "event", "topic", "message", "status", "reason",
               "parts", "broadcast", "text")  # fmt: skip


def log_chunks(query: LogQuery, newest: str, oldest: str, first: int) -> Iterator[list[Row]]:
    """The whole log, newest first, from `newest` (a stream id or "(id" for exclusive)."""
    size = first
    while True:
        rows = query.newest(size, newest, oldest)
        yield rows
        if len(rows) < size:
            return
        newest, size = f"({rows[-1][0]}", CHUNK


def person_chunks(query: LogQuery, phone: str, before: str, first: int) -> Iterator[list[Row]]:
    """One person's entries, newest first, older than `before`, from their own index (no scan)."""
    size = first
    while True:
        before_ms = str(id_key(before)[0]) if before else "+inf"
        rows = older_than(query.person(phone, size + 1, before_ms), before)[:size]
        if not rows:
            return
        yield rows
        before, size = rows[-1][0], CHUNK


def chunks_for(query: LogQuery, keep: Filter, before: str, first: int) -> Iterator[list[Row]]:
    if keep.phone:
        return person_chunks(query, keep.phone, before, first)
    newest, oldest = keep.id_range()
    if before and (newest == "+" or id_key(before) <= id_key(newest)):
        newest = f"({before}"
    return log_chunks(query, newest, oldest, first)


def find(query: LogQuery, keep: Filter, before: str, size: int = PAGE_SIZE, budget: int = SCAN_BUDGET) -> Page:
    first = size if not keep.active or keep.phone else CHUNK  # an unfiltered page is one small read
    return collect(chunks_for(query, keep, before, first), keep, size, budget)


@bp.get("/messages")
def index():
    query = LogQuery(services.get().store)
    keep = Filter.from_args(request.args)
    before = stream_id(request.args.get("before", ""))
    page = find(query, keep, before)
    total = query.person_length(keep.phone) if keep.phone else query.length()
    topics = [(t.id, t.label) for t in services.get().catalog.language("en").topics]
    return render_template("dashboard/messages.html", page=page, keep=keep, before=before, total=total,
                           topics=topics, directions=DIRECTIONS, channels=CHANNELS, statuses=STATUSES,
                           events=EVENTS)  # fmt: skip


@bp.get("/messages.csv")
def export():
    query = LogQuery(services.get().store)
    keep = Filter.from_args(request.args)
    return Response(_csv(_matching(query, keep)), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=factsbot-messages.csv"})  # fmt: skip


def _matching(query: LogQuery, keep: Filter) -> Iterator[Row]:
    """Every matching entry, newest first, streamed (no scan budget: this is a download)."""
    found = 0
    for chunk in chunks_for(query, keep, "", CHUNK):
        for entry_id, entry in chunk:
            if keep.older_than_range(entry_id):
                return
            if not keep.newer_than_range(entry_id) and keep.matches(entry):
                yield entry_id, entry
                found += 1
                if found >= EXPORT_MAX:
                    return


def _csv(rows: Iterator[Row]) -> Iterator[str]:
    from bot.dashboard.templating import when

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry_id, e in rows:
        writer.writerow([when(entry_id), entry_id, e.get("direction", ""), e.get("channel", ""),
                         mask(e.get("phone", "")), *(_cell(e.get(c, "")) for c in CSV_COLUMNS[5:])])  # fmt: skip
        if out.tell() > 64_000:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _cell(value: str) -> str:
    """Spreadsheets run a cell starting with = + - @ as a formula: an SMS body must stay text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
