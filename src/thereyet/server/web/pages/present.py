"""How runs and messages read on a page: formatted once, for the first render and for SSE."""

from __future__ import annotations

from typing import Any

from ...domain.cards import format_count, format_duration
from .tones import tone


def _amount(value: float | None) -> str:
    return "" if value is None else format_count(value)


def run_display(view: dict[str, Any]) -> dict[str, Any]:
    """Add `show`: the human strings a page prints for a run view."""
    return {**view, "show": _show(view)}


# What a dashboard row needs (and its stream's filters: rooms, job). The rest of
# a run's view (its times, ETA details, pid, node...) would triple every frame
# that 200 dashboards each receive ten times a second.
_ROW_FIELDS = ("id", "job", "status", "rooms", "host", "trigger", "finished_at", "progress")


def dashboard_row(view: dict[str, Any]) -> dict[str, Any]:
    """A run as the dashboard's live stream sends it: a few fields and `show`."""
    row = {key: view[key] for key in _ROW_FIELDS}
    row["show"] = _show(view)
    return row


def percent_text(percent: float | None) -> str:
    """ "11%", "11.5%": a whole number without its ".0"; empty when unknown."""
    if percent is None:
        return ""
    return f"{percent:.0f}%" if float(percent).is_integer() else f"{percent:.1f}%"


def _amount_text(progress: dict[str, Any]) -> str:
    """ "120 / 400 rows"; nothing for a job that reports only a percent (the percent says it)."""
    unit = progress["unit"] or ""
    done, total = progress["done"], progress["total"]
    if done is None or unit == "%":
        return ""
    if total:
        return f"{_amount(done)} / {_amount(total)} {unit}".strip()
    return f"{_amount(done)} {unit}".strip()


def _show(view: dict[str, Any]) -> dict[str, Any]:
    progress = view["progress"]
    unit = progress["unit"] or ""
    rate = view["rate"]
    percent = progress["percent"]
    status = view["status"]
    flags = [name for name, on in (view.get("flags") or {}).items() if on]
    state = " ".join([status, *flags])
    return {
        "percent": percent_text(percent),
        "bar": None if percent is None else round(percent, 1),
        "amount": _amount_text(progress),
        "rate": "" if not rate else f"{format_count(rate)} {unit or 'units'}/s",
        "eta": view["eta"]["text"] if status in ("running", "queued", "lost") else "",
        "elapsed": "" if view["elapsed"] is None else format_duration(view["elapsed"]),
        "state": state,
        "tone": tone(state),
        "attention": status in ("failed", "lost") or bool(flags),
    }
