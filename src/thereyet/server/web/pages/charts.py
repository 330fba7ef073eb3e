"""A server-rendered SVG chart of run durations: no script, nothing to load."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from ...domain.cards import format_duration

WIDTH, HEIGHT, PAD = 600, 200, 28


@dataclass(frozen=True)
class Point:
    label: str  # when the run started, shown on hover
    seconds: float
    ok: bool


def durations_chart(points: Sequence[Point]) -> str:
    """Bars of run durations, oldest left; failed runs in the `bad` colour."""
    if not points:
        return '<p class="empty">No finished runs yet.</p>'
    top = max(p.seconds for p in points) or 1.0
    step = (WIDTH - 2 * PAD) / len(points)
    bars = []
    for i, p in enumerate(points):
        height = max(1.0, (HEIGHT - 2 * PAD) * p.seconds / top)
        x = PAD + i * step
        y = HEIGHT - PAD - height
        title = escape(f"{p.label}: {format_duration(p.seconds)}")
        bars.append(
            f'<rect class="{"ok" if p.ok else "bad"}" x="{x:.1f}" y="{y:.1f}" '
            f'width="{max(1.0, step * 0.8):.1f}" height="{height:.1f}"><title>{title}</title></rect>'
        )
    axis = (
        f'<line class="axis" x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}"/>'
        f'<text x="{PAD}" y="{PAD - 8}">{escape(format_duration(top))}</text>'
    )
    return (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="run durations">'
        f"{axis}{''.join(bars)}</svg>"
    )
