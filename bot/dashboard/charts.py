"""Charts as geometry for server-side SVG: no script and no network needed to see them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str
    series: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (y, label) of horizontal grid lines
    labels: list[tuple[float, float, str]]  # (x, y, text) under or beside the bars


def nice_ceiling(value: int) -> int:
    """A round number at least `value` (1, 2, 5, 10, 20, 50...), for the axis."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if step * m >= value:
                return step * m
        step *= 10


def daily(days: Sequence[str], series: Mapping[str, Sequence[int]], width: int = 720, height: int = 220) -> Chart:
    """Grouped bars per day (e.g. inbound and outbound), with a labelled y axis."""
    left, bottom, top = 44, 22, 8
    plot_w, plot_h = width - left - 4, height - bottom - top
    ceiling = nice_ceiling(max([1, *(v for values in series.values() for v in values)]))
    slot = plot_w / max(len(days), 1)
    bar_w = slot * 0.8 / max(len(series), 1)
    bars = []
    for i, day in enumerate(days):
        for j, (name, values) in enumerate(series.items()):
            h = plot_h * values[i] / ceiling
            bars.append(Bar(round(left + i * slot + slot * 0.1 + j * bar_w, 2), round(top + plot_h - h, 2),
                            round(bar_w, 2), round(h, 2), values[i], day, name))  # fmt: skip
    ticks = [(round(top + plot_h - plot_h * f, 2), f"{int(ceiling * f):,}") for f in (0, 0.5, 1)]
    every = max(1, len(days) // 6)
    labels = [(round(left + i * slot + slot / 2, 2), height - 6, day[5:]) for i, day in enumerate(days)
              if (len(days) - 1 - i) % every == 0]  # fmt: skip
    return Chart(width, height, bars, ticks, labels)


def ranked(items: Sequence[tuple[str, int]], width: int = 420, row: int = 24) -> Chart:
    """Horizontal bars, biggest first, each labelled with its name and value."""
    label_w = 150
    height = max(row * len(items), row)
    ceiling = max([1, *(v for _, v in items)])
    bars, labels = [], []
    for i, (name, value) in enumerate(items):
        w = (width - label_w - 50) * value / ceiling
        bars.append(Bar(label_w, i * row + 4, round(w, 2), row - 8, value, name, "topic"))
        labels.append((label_w - 6, i * row + row / 2 + 4, name))
    return Chart(width, height, bars, [], labels)
