"""Jobs: the named kinds of work runs belong to.

A job is made by its first run, or beforehand with `create`; `update` sets
what a person reads about it: its title, description and runbook link (which
incidents opened for the job carry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from thereyet.eta import Estimator

from ..config import Settings
from ..domain.access import Principal
from ..domain.eta import eta_accuracy, typical_duration
from ..domain.links import url_problem
from ..domain.policy import Action, Resource
from ..domain.room_cards import RoomCards
from ..hub import Hub
from ..store import monitoring as job_store
from ..store import rooms as store
from ..store import runs as run_store
from ..store.writer import Tx
from .errors import Conflict, Invalid, NotFound
from .job_overview import job_overview
from .public_urls import hub_base_url, ping_url
from .rooms import check_name
from .views import iso

MAX_TITLE = 200


@dataclass(frozen=True)
class JobChanges:
    """What a caller set; a field left out (None in `given`) stays as it is."""

    given: frozenset[str]
    title: str | None = None
    description: str | None = None
    runbook_url: str | None = None  # None with "runbook_url" in given: remove it
    room_cards: str | None = None  # "all" | "changes"; None with it in given: the default


def check_runbook_url(url: str, field: str = "runbook_url") -> str:
    """An absolute http(s) URL of at most MAX_URL characters, else Invalid naming `field`."""
    problem = url_problem(url)
    if problem is not None:
        raise Invalid(f"{field} {problem}", field=field)
    return url


def _values(changes: JobChanges) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "title" in changes.given:
        title = (changes.title or "").strip()
        if not title or len(title) > MAX_TITLE:
            raise Invalid(f"title must be 1-{MAX_TITLE} characters", field="title")
        values["title"] = title
    if "description" in changes.given:
        values["description"] = changes.description or ""
    if "runbook_url" in changes.given:
        url = changes.runbook_url
        values["runbook_url"] = check_runbook_url(url) if url else None
    if "room_cards" in changes.given:
        cards = changes.room_cards
        if cards is not None and cards not in {c.value for c in RoomCards}:
            raise Invalid("room_cards must be 'all', 'changes' or null", field="room_cards")
        values["room_cards"] = cards
    return values


class JobService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def all(self, who: Principal) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            rows = store.list_jobs(conn)
            rooms = store.job_rooms_by_job(conn)
        views = [_job_view(row, rooms.get(row.id, [])) for row in rows]
        return [v for v in views if who.may_read_run(v["name"], v["rooms"])]

    def overview(self, who: Principal) -> list[dict[str, Any]]:
        """Every job `who` may read with its state, schedule, last run and recent record."""
        with self.hub.engines.read.connect() as conn:
            return job_overview(conn, who)

    def get(self, who: Principal, name: str) -> dict[str, Any]:
        now = self.hub.clock.now()
        with self.hub.engines.read.connect() as conn:
            rows = [r for r in store.list_jobs(conn, frozenset({name}))]
            if not rows:
                raise NotFound(f"no job named {name!r}")
            view = _job_view(rows[0], store.job_rooms_by_job(conn).get(rows[0].id, []))
            durations = run_store.recent_durations(conn, name, before=now, limit=50)
            scored = run_store.recent_eta_states(conn, name)
            # A ping URL lets anyone report the job: only those the policy lets write it.
            if who.may(Resource.PING_URLS, Action.READ, job=name, rooms=view["rooms"]):
                view["ping_url"] = ping_url(
                    hub_base_url(conn, self.hub.settings), rows[0].ping_uuid
                )
        if not who.may_read_run(name, view["rooms"]):
            raise NotFound(f"no job named {name!r}")
        typical = typical_duration(durations)
        view["typical_duration"] = None if typical is None else round(typical, 1)
        view["recent_durations"] = [round(d, 1) for d in durations]
        view["eta_accuracy"] = eta_accuracy_view(scored)
        return view

    async def create(self, name: str, changes: JobChanges) -> dict[str, Any]:
        """Make a job before its first run; Conflict if one has that name."""
        check_name(name, "name")
        values = _values(changes)

        def write(tx: Tx) -> dict[str, Any]:
            if store.job_id(tx.conn, name) is not None:
                raise Conflict(f"job {name!r} already exists", field="name")
            job_id = store.ensure_job(tx.conn, name, tx.now)
            if values:
                job_store.update_job(tx.conn, job_id, **values)
            return _written_view(tx, name, self.hub.settings)

        return await self.hub.writer.run(write)

    async def update(self, name: str, changes: JobChanges) -> dict[str, Any]:
        """Change a job's title, description, runbook link or room cards; NotFound if there is
        no such job."""
        values = _values(changes)

        def write(tx: Tx) -> dict[str, Any]:
            job_id = store.job_id(tx.conn, name)
            if job_id is None:
                raise NotFound(f"no job named {name!r}")
            if values:
                job_store.update_job(tx.conn, job_id, **values)
            return _written_view(tx, name, self.hub.settings)

        return await self.hub.writer.run(write)


def _written_view(tx: Tx, name: str, settings: Settings) -> dict[str, Any]:
    """The job as an admin (who made or changed it) sees it, with its ping URL."""
    [row] = store.list_jobs(tx.conn, frozenset({name}))
    view = _job_view(row, store.job_rooms_by_job(tx.conn).get(row.id, []))
    view["ping_url"] = ping_url(hub_base_url(tx.conn, settings), row.ping_uuid)
    return view


def _job_view(row: Any, rooms: list[str]) -> dict[str, Any]:
    return {
        "name": row.name,
        "title": row.title,
        "description": row.description,
        "runbook_url": row.runbook_url,
        "room_cards": row.room_cards,
        "rooms": rooms,
        "created_at": iso(row.created_at),
        "run_count": row.run_count or 0,
        "last_run_at": iso(row.last_run_at),
    }


def eta_accuracy_view(scored: list[Any]) -> dict[str, Any]:
    """How right the job's ETAs were: over its recent successful runs, the median
    relative error of what was said at 25, 50 and 75 % done, how often the range
    held the truth, and each run's figures."""
    estimators = [(row, Estimator.from_state(row.eta)) for row in scored]
    accuracy = eta_accuracy([estimator for _, estimator in estimators])
    recent = []
    for row, estimator in estimators:
        end = estimator.end
        if end is None or not estimator.predictions:
            continue
        errors = [e for p in estimator.predictions if (e := p.error(end)) is not None]
        recent.append(
            {
                "run_id": row.id,
                "finished_at": iso(row.finished_at),
                "duration": round(end, 1),
                "error": round(max(errors), 3) if errors else None,
                "said": {_mark(p.fraction): _rounded(p.seconds, 1) for p in estimator.predictions},
                "actual": {_mark(p.fraction): round(end - p.t, 1) for p in estimator.predictions},
            }
        )
    return {
        "runs": accuracy.runs,
        "error": _rounded(accuracy.error),
        "by_checkpoint": {
            _mark(mark): round(error, 3) for mark, error in accuracy.by_checkpoint.items()
        },
        "held": _rounded(accuracy.held),
        "recent": recent,
    }


def _mark(fraction: float) -> str:
    return f"{round(fraction * 100)}%"


def _rounded(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
