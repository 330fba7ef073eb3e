"""Every job at a glance: its state, schedule, next due time, last run and recent record.

What the jobs page lists; read in two queries whatever the number of jobs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ..domain.access import Principal
from ..domain.job_state import job_state
from ..store import job_overview as store
from ..store import rooms as job_store
from .views import iso

RECENT_RUNS = 20  # how many runs a job's sparkline shows


def _seconds(row: Any) -> float | None:
    if row.finished_at is None:
        return None
    return max(0.0, float((row.finished_at - (row.started_at or row.created_at)).total_seconds()))


def _run_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "host": row.host,
        "created_at": iso(row.created_at),
        "finished_at": iso(row.finished_at),
        "seconds": _seconds(row),
    }


def _job_view(row: Any, rooms: list[str], recent: list[Any]) -> dict[str, Any]:
    latest = recent[0] if recent else None
    state = job_state(latest.status if latest else None, row.schedule_state)
    return {
        "name": row.name,
        "title": row.title,
        "rooms": rooms,
        "state": state.value,
        "attention": state.attention,
        "schedule": row.schedule,
        "timezone": row.timezone or "UTC",
        "due_at": iso(row.due_at) if row.schedule else None,
        "run_count": row.run_count or 0,
        "last_run": _run_view(latest) if latest else None,
        # Oldest first, as a sparkline reads left to right.
        "recent": [r.status for r in reversed(recent)],
    }


def job_overview(conn: Connection, who: Principal) -> list[dict[str, Any]]:
    """The jobs `who` may read, by name, each with its state and recent runs."""
    rooms = job_store.job_rooms_by_job(conn)
    recent = store.recent_runs_by_job(conn, RECENT_RUNS)
    views = [
        _job_view(row, rooms.get(row.id, []), recent.get(row.name, []))
        for row in job_store.list_jobs(conn)
    ]
    return [v for v in views if who.may_read_run(v["name"], v["rooms"])]
