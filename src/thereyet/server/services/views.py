"""The JSON shapes the hub shows of its records, in one place for API, SSE and pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..domain.eta import run_estimate
from ..domain.runs import Run


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def progress_view(run: Run) -> dict[str, Any]:
    percent = None
    if run.done is not None and run.total:
        percent = round(min(100.0, max(0.0, 100.0 * run.done / run.total)), 2)
    return {"done": run.done, "total": run.total, "unit": run.unit, "percent": percent}


def eta_view(run: Run, now: datetime, history: list[float]) -> dict[str, Any]:
    """The ETA as the API shows it: seconds with a range (low, high), basis, reason, text."""
    if run.status.finished:
        return {
            "seconds": 0 if run.status.value == "succeeded" else None,
            "low": None,
            "high": None,
            "basis": "none",
            "reason": f"run {run.status.value}",
            "text": run.status.value,
            "finish_at": None,
        }
    estimate = run_estimate(run, now, history)
    view = estimate.to_dict()
    seconds = estimate.seconds
    view["finish_at"] = None if seconds is None else iso(now + timedelta(seconds=seconds))
    return view


def eta_predictions_view(run: Run) -> list[dict[str, Any]]:
    """What the run's ETA said at 25, 50 and 75 % done and, once it succeeded, how right."""
    if run.eta is None:
        return []
    end = run.eta.end
    shown = []
    for p in run.eta.predictions:
        error = None if end is None else p.error(end)
        shown.append(
            {
                "fraction": p.fraction,
                "elapsed": round(p.t, 1),
                "seconds": None if p.seconds is None else round(p.seconds, 1),
                "low": None if p.low is None else round(p.low, 1),
                "high": None if p.high is None else round(p.high, 1),
                "actual": None if end is None else round(end - p.t, 1),
                "error": None if error is None else round(error, 3),
                "held": None if end is None else p.held(end),
            }
        )
    return shown


def run_view(
    run: Run,
    *,
    now: datetime,
    rooms: list[str],
    history: list[float] | None = None,
    attachments: list[Any] | None = None,
) -> dict[str, Any]:
    elapsed = run.elapsed(now)
    view: dict[str, Any] = {
        "id": run.id,
        "job": run.job,
        "status": run.status.value,
        "rooms": rooms,
        "host": run.host,
        "pid": run.pid,
        "user": run.user,
        "trigger": run.trigger,
        "node": run.node,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "heartbeat_at": iso(run.heartbeat_at),
        "progress_at": iso(run.progress_at),
        "elapsed": None if elapsed is None else round(elapsed, 1),
        "progress": progress_view(run),
        "rate": run.rate,
        "eta": eta_view(run, now, history or []),
        "eta_predictions": eta_predictions_view(run),
        "stats": run.stats,
        "log_tail": run.log_tail,
        "exit_code": run.exit_code,
        "error": run.error,
    }
    if attachments is not None:
        view["attachments"] = [attachment_view(a) for a in attachments]
    return view


_HEAVY = frozenset({"log_tail", "stats", "error", "attachments"})


def run_summary(view: dict[str, Any]) -> dict[str, Any]:
    """A run view without its log, stats and files: what a dashboard row needs."""
    return {key: value for key, value in view.items() if key not in _HEAVY}


def attachment_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "run_id": row.run_id,
        "created_at": iso(row.created_at),
        "url": f"/api/v1/attachments/{row.id}",
    }


def message_view(row: Any, room: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "room": room,
        "created_at": iso(row.created_at),
        "author": row.author,
        "kind": row.kind,
        "text": row.body,
        "data": row.data,
    }


def event_view(row: Any) -> dict[str, Any]:
    return {"seq": row.seq, "id": row.event_id, "type": row.kind, "ts": iso(row.ts), **row.data}
