"""Geometry of the manager dashboard's charts, drawn as SVG by the template (no script, no chart library,
nothing from a CDN). Each chart sits beside a table with the same figures, for a screen reader.

- ``row_chart``: one row per band, life event or procedure, with up to two bars (p50 and p90 minutes)
  and vertical markers across the row for its target (and the stay measured before, its baseline).
- ``column_chart``: one column per hour or per rating.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 720
BAR_H = 13
ROW_GAP = 12
AXIS_H = 22
VALUE_W = 52
CHAR_W = 13  # a CJK character at the charts' font size: the label column fits the longest label
LATIN_W = 7.5
MAX_LABEL_W = 280
COLUMN_H = 170


@dataclass(frozen=True)
class Bar:
    kind: str  # css class: p50, p90, count
    x: float
    y: float
    width: float
    height: float
    text: str


@dataclass(frozen=True)
class Marker:
    kind: str  # css class: target, baseline
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Row:
    label: str
    label_y: float
    bars: tuple[Bar, ...]
    markers: tuple[Marker, ...]


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class RowSpec:
    """What a row shows: its label, its bars (kind, minutes) and its markers (kind, minutes)."""

    label: str
    bars: Sequence[tuple[str, float | None]]
    markers: Sequence[tuple[str, float | None]] = ()


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    label_x: float
    plot_x: float
    plot_y: float
    plot_h: float
    rows: tuple[Row, ...] = ()
    ticks: tuple[Tick, ...] = ()
    columns: tuple[Bar, ...] = ()
    column_labels: tuple[Tick, ...] = ()


def nice_step(top: float, parts: int = 5) -> float:
    """A round step (1, 2 or 5 × 10ⁿ) that cuts ``top`` into about ``parts`` parts."""
    if top <= 0:
        return 1.0
    raw = top / parts
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _figure(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def text_width(text: str) -> float:
    """About how wide ``text`` is at the charts' font size (CJK full width, Latin about half)."""
    return sum(CHAR_W if ord(c) >= 0x2E80 else LATIN_W for c in text)


def fit(text: str, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` (the table beside the chart has it whole)."""
    if text_width(text) <= width:
        return text
    while text and text_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def row_chart(specs: Sequence[RowSpec]) -> Chart:
    label_w = min(MAX_LABEL_W, max([4 * CHAR_W, *(text_width(s.label) for s in specs)]) + 12)
    specs = [RowSpec(fit(s.label, label_w - 12), s.bars, s.markers) for s in specs]
    plot_x, plot_right = label_w, WIDTH - VALUE_W
    values = [v for s in specs for _, v in (*s.bars, *s.markers) if v is not None]
    step = nice_step(max(values, default=0) or 1)
    top = step * math.ceil((max(values, default=0) or 1) / step)
    scale = (plot_right - plot_x) / top

    rows, y = [], AXIS_H
    for spec in specs:
        height = max(1, len(spec.bars)) * BAR_H
        bars = tuple(Bar(kind, plot_x, y + i * BAR_H, max(value * scale, 1), BAR_H - 2, _figure(value))
                     for i, (kind, value) in enumerate(spec.bars) if value is not None)
        markers = tuple(Marker(kind, plot_x + value * scale, y - 4, plot_x + value * scale, y + height + 2)
                        for kind, value in spec.markers if value is not None)
        rows.append(Row(spec.label, y + height / 2 + 5, bars, markers))
        y += height + ROW_GAP
    ticks = tuple(Tick(plot_x + i * step * scale, AXIS_H - 8, _figure(i * step))
                  for i in range(round(top / step) + 1))
    return Chart(WIDTH, y, label_w - 8, plot_x, AXIS_H - 4, y - AXIS_H, tuple(rows), ticks)


def column_chart(columns: Sequence[tuple[str, float]]) -> Chart:
    plot_x, plot_y = 44, 16
    top_value = max([v for _, v in columns], default=0) or 1
    step = max(1.0, nice_step(top_value, 4))  # counts: no half residents on the axis
    top = step * math.ceil(top_value / step)
    scale = COLUMN_H / top
    slot = (WIDTH - plot_x - 8) / max(1, len(columns))
    bars, labels = [], []
    for i, (label, value) in enumerate(columns):
        height = value * scale
        x = plot_x + i * slot + slot * 0.15
        bars.append(Bar("count", x, plot_y + COLUMN_H - height, slot * 0.7, height, _figure(value)))
        labels.append(Tick(x + slot * 0.35, plot_y + COLUMN_H + 18, label))
    ticks = tuple(Tick(plot_x - 6, plot_y + COLUMN_H - i * step * scale, _figure(i * step))
                  for i in range(round(top / step) + 1))
    return Chart(WIDTH, plot_y + COLUMN_H + 28, plot_x - 6, plot_x, plot_y, COLUMN_H,
                 ticks=ticks, columns=tuple(bars), column_labels=tuple(labels))
