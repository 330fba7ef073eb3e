"""Jobs: the named kinds of work runs belong to."""

from __future__ import annotations

from typing import Any

from ..domain.access import Principal
from ..domain.eta import typical_duration
from ..hub import Hub
from ..store import rooms as store
from ..store import runs as run_store
from .errors import NotFound
from .views import iso


class JobService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def all(self, who: Principal) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            rows = store.list_jobs(conn)
            rooms = store.job_rooms_by_job(conn)
        views = [_job_view(row, rooms.get(row.id, [])) for row in rows]
        return [v for v in views if who.may_read_run(v["name"], v["rooms"])]

    def get(self, who: Principal, name: str) -> dict[str, Any]:
        now = self.hub.clock.now()
        with self.hub.engines.read.connect() as conn:
            rows = [r for r in store.list_jobs(conn, frozenset({name}))]
            if not rows:
                raise NotFound(f"no job named {name!r}")
            view = _job_view(rows[0], store.job_rooms_by_job(conn).get(rows[0].id, []))
            durations = run_store.recent_durations(conn, name, before=now, limit=50)
        if not who.may_read_run(name, view["rooms"]):
            raise NotFound(f"no job named {name!r}")
        typical = typical_duration(durations)
        view["typical_duration"] = None if typical is None else round(typical, 1)
        view["recent_durations"] = [round(d, 1) for d in durations]
        return view


def _job_view(row: Any, rooms: list[str]) -> dict[str, Any]:
    return {
        "name": row.name,
        "title": row.title,
        "description": row.description,
        "runbook_url": row.runbook_url,
        "rooms": rooms,
        "created_at": iso(row.created_at),
        "run_count": row.run_count or 0,
        "last_run_at": iso(row.last_run_at),
    }
