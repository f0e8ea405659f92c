"""The dashboard's pure functions: log filters and pages, figures, charts, progress, references."""

from __future__ import annotations

import pytest

from bot.dashboard import charts, figures, preview, privacy
from bot.dashboard.logfilter import Filter, collect, older_than

DAY_MS = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC


def entry(n: int, **fields) -> tuple[str, dict[str, str]]:
    base = {"direction": "in", "channel": "sms", "phone": f"+25470000{n:04d}", "text": f"hello {n}"}
    return f"{T0 + n * 1000}-0", {**base, **fields}


def newest_first(n: int) -> list[tuple[str, dict[str, str]]]:
    return [entry(i) for i in range(n - 1, -1, -1)]


def chunked(rows, size):
    return [rows[i : i + size] for i in range(0, len(rows), size)]


@pytest.mark.parametrize(
    "args, wanted",
    [
        ({"direction": "sideways", "channel": "fax", "status": "nope"}, Filter()),
        ({"since": "2026-13-01", "until": "2026-01-02"}, Filter(until="2026-01-02")),
        ({"number": " +254 700 000 123 ", "text": "x" * 500}, Filter(number="+254 700 000 123", text="x" * 200)),
    ],
)
def test_filters_keep_only_known_values(args, wanted):
    assert Filter.from_args(args) == wanted


@pytest.mark.parametrize(
    "number, phone, digits",
    [("+254 700 000 123", "+254700000123", "254700000123"), ("0123", "", "0123"), ("+12", "", "12")],
)
def test_a_number_is_full_or_last_digits(number, phone, digits):
    keep = Filter(number=number)
    assert (keep.phone, keep.digits) == (phone, digits)


def test_a_page_fills_from_chunks_and_continues_from_its_last_row():
    rows = newest_first(10)
    page = collect(chunked(rows, 3), Filter(), size=4, budget=100)
    assert [r[0] for r in page.rows] == [r[0] for r in rows[:4]] and page.before == rows[3][0]
    assert not page.budget_spent


def test_a_rare_filter_stops_at_the_budget_and_says_where():
    rows = newest_first(100)
    page = collect(chunked(rows, 10), Filter(number="0099"), size=5, budget=30)
    assert len(page.rows) == 1 and page.scanned == 30 and page.budget_spent and page.before == rows[29][0]


def test_the_end_of_the_log_leaves_no_cursor():
    page = collect(chunked(newest_first(5), 2), Filter(direction="in"), size=50, budget=100)
    assert len(page.rows) == 5 and page.before == "" and not page.budget_spent


def test_dates_bound_the_scan():
    rows = [(f"{T0 + 2 * DAY_MS}-0", entry(0)[1]), (f"{T0 + DAY_MS}-0", entry(1)[1]), (f"{T0}-0", entry(2)[1])]
    page = collect([rows], Filter(until="2026-01-02", since="2026-01-02"), size=10, budget=100)
    assert [r[0] for r in page.rows] == [f"{T0 + DAY_MS}-0"]
    assert Filter(since="2026-01-01").id_range() == ("+", str(T0))


@pytest.mark.parametrize(
    "keep, n",
    [
        (Filter(direction="out"), 0),
        (Filter(channel="sms"), 3),
        (Filter(text="HELLO 1"), 1),
        (Filter(number="+254700000002"), 1),
        (Filter(number="0002"), 1),
        (Filter(topic="malaria"), 0),
    ],
)
def test_each_filter(keep, n):
    assert len(collect([newest_first(3)], keep, size=10, budget=10).rows) == n


def test_older_than_tells_ids_in_one_millisecond_apart():
    rows = [("5-2", {}), ("5-1", {}), ("5-0", {}), ("4-9", {})]
    assert [r[0] for r in older_than(rows, "5-1")] == ["5-0", "4-9"]


def test_tally_counts_per_day_and_leaves_test_traffic_out():
    rows = [
        entry(1, event="message", topic="malaria"),
        entry(2, event="opt_out"),
        entry(3, event="joined"),
        entry(4, direction="out", status="sent"),
        entry(5, direction="out", status="failed", reason="blocked"),
        entry(6, direction="out"),
        entry(7, channel="simulator", event="message", topic="malaria"),
        (f"{T0 + DAY_MS}-0", entry(8)[1]),
    ]
    counts, people = figures.tally(rows)
    assert counts["2026-01-01"] == {"in": 3, "read:malaria": 1, "opt_out": 1, "subscribed": 1, "out": 3,
                                    "accepted": 1, "rejected": 1}  # fmt: skip
    assert counts["2026-01-02"] == {"in": 1} and len(people["2026-01-01"]) == 3
    s = figures.summary([counts["2026-01-01"], counts["2026-01-02"]], people=4)
    assert (s["inbound"], s["outbound"], s["delivery_rate"], s["people"]) == (4, 3, 50.0, 4)
    assert figures.summary([], 0)["delivery_rate"] is None
    assert figures.top_topics([counts["2026-01-01"]]) == [("malaria", 1)]


@pytest.mark.parametrize("value, nice", [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (499, 500), (501, 1000)])
def test_axis_ceilings_are_round(value, nice):
    assert charts.nice_ceiling(value) == nice


def test_daily_chart_geometry_stays_inside_the_plot():
    chart = charts.daily(["2026-01-01", "2026-01-02"], {"in": [0, 10], "out": [5, 3]}, width=200, height=100)
    assert len(chart.bars) == 4 and all(0 <= b.y and b.y + b.height <= 100 and b.x + b.width <= 200 for b in chart.bars)
    tallest = max(chart.bars, key=lambda b: b.value)
    assert tallest.value == 10 and tallest.y == 8  # the top margin: 10 is the axis ceiling


@pytest.mark.parametrize(
    "f, status, pct",
    [
        ({"planned": 0}, "done", 100),
        ({"planned": 0}, "sending", 0),
        ({"planned": 4, "sent": 1, "failed": 1}, "sending", 50),
        ({"planned": 3, "sent": 2, "unknown": 1}, "done", 100),
    ],
)
def test_progress_percent(f, status, pct):
    full = {k: 0 for k in ("sent", "failed", "opted_out", "invalid", "unknown")} | f
    assert preview.percent(full, status) == pct


def test_references_and_test_numbers_are_stable_and_opaque():
    ref = privacy.ref_for("k", "+254700000001")
    assert ref == privacy.ref_for("k", "+254700000001") != privacy.ref_for("other", "+254700000001")
    assert "254700000001" not in ref
    number = privacy.test_number("k", "a@example.org")
    assert number.startswith("+000") and len(number) == 13 and number != privacy.test_number("k", "b@example.org")


def test_danger_signs_are_counted_and_filtered_apart():
    rows = [entry(1, event="urgent"), entry(2, event="urgent", direction="out"), entry(3, event="hint"),
            entry(4, event="urgent", channel="simulator")]  # fmt: skip
    counts, _ = figures.tally(rows)
    (day,) = counts.values()
    assert day["urgent"] == 1 and figures.summary([day], 1)["urgent"] == 1  # inbound only, families only
    urgent = Filter.from_args({"event": "urgent"})
    found = collect([rows], urgent, size=10, budget=10).rows
    assert [r[0] for r in found] == [rows[0][0], rows[1][0], rows[3][0]]
    assert Filter.from_args({"event": "<script>"}) == Filter()
