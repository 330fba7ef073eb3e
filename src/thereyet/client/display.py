"""Runs in a terminal: one line per run with a bar, percent, rate, ETA and host."""

from __future__ import annotations

from typing import Any

from ..eta import Estimate

BAR = 20


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def number(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar(percent: float | None, width: int = BAR) -> str:
    if percent is None:
        return "[" + "?" * width + "]"
    filled = round(width * min(100.0, max(0.0, percent)) / 100)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def eta_text(eta: dict[str, Any]) -> str:
    """The hub's ETA in the words the hub, the pages and chat use: "about 7-9 min left".

    Said by thereyet.eta from the figures (seconds, low, high, reason) when the
    hub sends them; otherwise (a finished run, an older hub) the hub's own text."""
    seconds, low, high = eta.get("seconds"), eta.get("low"), eta.get("high")
    if all(isinstance(v, int | float) for v in (seconds, low, high)) and seconds:
        reason = eta.get("reason")
        return Estimate(
            seconds, low, high, "rate", reason if isinstance(reason, str) else None
        ).text
    return str(eta.get("text") or "?")


def run_line(view: dict[str, Any]) -> str:
    """`export  [#####.....]  50.0%  500/1000 rows  12.5/s  ETA 40s  db-1  running`"""
    progress = view.get("progress") or {}
    percent = progress.get("percent")
    unit = progress.get("unit") or ""
    counts = f"{number(progress.get('done'))}/{number(progress.get('total'))} {unit}".strip()
    rate = view.get("rate")
    rate_text = f"{rate:,.1f}/s" if isinstance(rate, int | float) else "-"
    eta = eta_text(view.get("eta") or {})
    pct = f"{percent:5.1f}%" if percent is not None else "    ?%"
    parts = [
        f"{view.get('job', '?'):<20}",
        bar(percent),
        pct,
        counts,
        rate_text,
        f"ETA {eta}",
        view.get("host") or "-",
        view.get("status", "?"),
    ]
    return "  ".join(str(p) for p in parts)


def status_text(runs: list[dict[str, Any]], job: str | None = None) -> str:
    if not runs:
        return f"no run of {job} is running" if job else "nothing is running"
    return "\n".join(run_line(v) for v in runs)
