"""Server-rendered SVG charts of runs: no script, nothing to load, no inline styles.

Colours come from classes the stylesheets define (`ok`, `bad`, `live`, `other`), so
the charts follow the light or dark theme and pass the pages' CSP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from ...domain.cards import format_duration

WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 62, 14, 16, 40  # room for the axes' labels


@dataclass(frozen=True)
class Point:
    label: str  # when the run started (ISO 8601), shown on hover and on the time axis
    seconds: float
    ok: bool


# Tops of the duration axis: its three ticks (0, half, top) read as round durations.
_NICE_TOPS = (2, 4, 10, 20, 30, 60, 120, 240, 600, 1200, 1800, 3600, 7200, 14400, 21600, 43200)


def nice_top(longest: float) -> float:
    """The smallest round duration at least `longest` (whole days past 12 hours)."""
    for top in _NICE_TOPS:
        if longest <= top:
            return float(top)
    return 86400.0 * -(-longest // 86400)


def _when(label: str) -> str:
    """'2026-03-02T09:00:00Z' as '03-02 09:00' (the axis's short date)."""
    return label[5:16].replace("T", " ") if len(label) >= 16 else label


def _y_axis(top: float) -> str:
    bottom = HEIGHT - BOTTOM
    span = bottom - TOP
    parts = [f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>']
    for share in (0.0, 0.5, 1.0):
        y = bottom - span * share
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 8}" y="{y + 6:.1f}" text-anchor="end">'
            f"{escape(format_duration(top * share) if share else '0')}</text>"
        )
    return "".join(parts)


def _x_axis(points: Sequence[Point], step: float) -> str:
    bottom = HEIGHT - BOTTOM
    parts = [f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}"/>']
    ends = {0, len(points) - 1}
    middle = len(points) // 2
    # The middle date only when it says something the ends do not (same-minute runs).
    shown = {_when(points[i].label) for i in ends}
    marks = sorted(ends | ({middle} if _when(points[middle].label) not in shown else set()))
    for i, index in enumerate(marks):
        x = LEFT + (index + 0.4) * step
        anchor = (
            "start" if i == 0 and len(marks) > 1 else "end" if i == len(marks) - 1 else "middle"
        )
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{bottom + 24}" text-anchor="{anchor}">'
            f"{escape(_when(points[index].label))}</text>"
        )
    return "".join(parts)


def _bar(p: Point, x: float, width: float, top: float) -> str:
    span = HEIGHT - BOTTOM - TOP
    height = max(1.0, span * p.seconds / top)
    y = HEIGHT - BOTTOM - height
    title = escape(f"{_when(p.label)}: {format_duration(p.seconds)}{'' if p.ok else ', failed'}")
    bar = (
        f'<rect class="{"ok" if p.ok else "bad"}" x="{x:.1f}" y="{y:.1f}" '
        f'width="{width:.1f}" height="{height:.1f}"><title>{title}</title></rect>'
    )
    if p.ok:
        return bar
    # A failed run is marked by a shape above its bar too, not by its colour alone.
    middle = x + width / 2
    return bar + (f'<path class="bad mark" d="M{middle - 4:.1f} {y - 10:.1f}h8l-4 7z"/>')


def durations_chart(points: Sequence[Point]) -> str:
    """Bars of run durations, oldest left, with a duration axis and a time axis;
    failed runs in the `bad` colour with a mark above them."""
    if not points:
        return '<p class="empty">No finished runs yet.</p>'
    top = nice_top(max(p.seconds for p in points))
    step = (WIDTH - LEFT - RIGHT) / len(points)
    width = max(1.0, step * 0.8)
    bars = "".join(_bar(p, LEFT + i * step + step * 0.1, width, top) for i, p in enumerate(points))
    failed = sum(not p.ok for p in points)
    label = f"durations of the last {len(points)} finished runs, {failed} failed"
    return (
        f'<svg class="durations" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}">{_y_axis(top)}{_x_axis(points, step)}{bars}</svg>'
    )


_SPARK_CLASS = {"succeeded": "ok", "failed": "bad", "lost": "bad", "running": "live"}
SPARK_BAR, SPARK_GAP, SPARK_HEIGHT = 5, 2, 20


def sparkline(statuses: Sequence[str]) -> str:
    """A win/loss strip of runs, oldest left: succeeded up, failed or lost down,
    running or queued a dot on the middle line, cancelled a short dash."""
    if not statuses:
        return '<span class="muted">no runs</span>'
    middle = SPARK_HEIGHT / 2
    marks = []
    for i, status in enumerate(statuses):
        x = i * (SPARK_BAR + SPARK_GAP)
        kind = _SPARK_CLASS.get(status, "other")
        y, height = {"ok": (0.0, middle), "bad": (middle, middle)}.get(kind, (middle - 1.5, 3.0))
        marks.append(
            f'<rect class="{kind}" x="{x}" y="{y:.1f}" width="{SPARK_BAR}" height="{height:.1f}"/>'
        )
    good = statuses.count("succeeded")
    bad = sum(s in ("failed", "lost") for s in statuses)
    runs = f"{len(statuses)} runs" if len(statuses) != 1 else "run"
    label = f"last {runs}: {good} succeeded, {bad} failed"
    width = len(statuses) * (SPARK_BAR + SPARK_GAP) - SPARK_GAP
    return (
        f'<svg class="spark" viewBox="0 0 {width} {SPARK_HEIGHT}" width="{width}" '
        f'height="{SPARK_HEIGHT}" role="img" aria-label="{label}"><title>{label}</title>'
        f"{''.join(marks)}</svg>"
    )
