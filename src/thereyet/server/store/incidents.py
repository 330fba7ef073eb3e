"""Incidents, their timeline, and the pages sent for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update

from .claims import unlocked
from .tables import (
    channels,
    incident_events,
    incident_pages,
    incident_services,
    incidents,
    outbox,
)


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _with_service() -> Any:
    return select(
        incidents,
        incident_services.c.name.label("service"),
        incident_services.c.room.label("service_room"),
    ).join(incident_services, incident_services.c.id == incidents.c.service_id)


# Built once: asked whenever a run succeeds, fails or is lost.
_OPEN_FOR_JOB = _with_service().where(
    incidents.c.job == bindparam("p_job"), incidents.c.open_key.is_not(None)
)


_JOBS_WITH_OPEN = (
    select(incidents.c.job)
    .where(
        incidents.c.job.in_(bindparam("p_jobs", expanding=True)),
        incidents.c.open_key.is_not(None),
    )
    .distinct()
)


def jobs_with_open_incidents(conn: Connection, jobs: list[str]) -> set[str]:
    """Which of these jobs have an open incident (one statement for a group of runs)."""
    if not jobs:
        return set()
    return set(conn.execute(_JOBS_WITH_OPEN, {"p_jobs": jobs}).scalars())


def insert_incident(conn: Connection, **values: Any) -> int:
    return _new_id(conn.execute(insert(incidents).values(**values)))


def get(conn: Connection, incident_id: int) -> Any:
    return conn.execute(_with_service().where(incidents.c.id == incident_id)).first()


def open_by_key(conn: Connection, service_id: int, dedup_key: str) -> Any:
    query = _with_service().where(
        incidents.c.service_id == service_id, incidents.c.open_key == dedup_key
    )
    return conn.execute(query).first()


def open_from_alertmanager(conn: Connection, service_id: int) -> list[Any]:
    """A service's open incidents opened by Alertmanager's webhook or a PagerDuty sender."""
    query = _with_service().where(
        incidents.c.service_id == service_id,
        incidents.c.open_key.is_not(None),
        incidents.c.origin.in_(("alertmanager", "pagerduty")),
    )
    return list(conn.execute(query.order_by(incidents.c.id)))


def latest_by_key(conn: Connection, service_id: int, dedup_key: str) -> Any:
    query = _with_service().where(
        incidents.c.service_id == service_id, incidents.c.dedup_key == dedup_key
    )
    return conn.execute(query.order_by(incidents.c.id.desc()).limit(1)).first()


def open_for_job(conn: Connection, job: str) -> list[Any]:
    return list(conn.execute(_OPEN_FOR_JOB, {"p_job": job}))


def search(conn: Connection, *, status: str | None, service: str | None, limit: int) -> list[Any]:
    query = _with_service()
    if status is not None:
        query = query.where(incidents.c.status == status)
    if service is not None:
        query = query.where(incident_services.c.name == service)
    return list(conn.execute(query.order_by(incidents.c.id.desc()).limit(limit)))


def of_run(conn: Connection, run_id: str) -> list[Any]:
    """The incidents a run opened (newest first)."""
    query = _with_service().where(incidents.c.run_id == run_id)
    return list(conn.execute(query.order_by(incidents.c.id.desc()).limit(5)))


def change_status(conn: Connection, incident_id: int, seen_status: str, **values: Any) -> bool:
    """Move an incident on from `seen_status`; False if someone else moved it first."""
    result = conn.execute(
        update(incidents)
        .where(incidents.c.id == incident_id, incidents.c.status == seen_status)
        .values(**values)
    )
    return result.rowcount == 1


def due_escalations(conn: Connection, now: datetime, limit: int) -> list[Any]:
    query = _with_service().where(
        incidents.c.status == "triggered",
        incidents.c.next_escalation_at.is_not(None),
        incidents.c.next_escalation_at <= now,
    )
    return list(conn.execute(query.order_by(incidents.c.next_escalation_at).limit(limit)))


def claim_escalation(
    conn: Connection, incident_id: int, seen_paged_through: int, paged_through: int, next_at: Any
) -> bool:
    """Take escalation positions for this node: one conditional UPDATE decides the winner."""
    result = conn.execute(
        update(incidents)
        .where(
            unlocked(
                incidents,
                incidents.c.id == incident_id,
                incidents.c.status == "triggered",
                incidents.c.paged_through == seen_paged_through,
            )
        )
        .values(paged_through=paged_through, next_escalation_at=next_at)
    )
    return result.rowcount == 1


def add_event(
    conn: Connection, incident_id: int, ts: datetime, kind: str, actor: str, data: dict[str, Any]
) -> None:
    conn.execute(
        insert(incident_events).values(
            incident_id=incident_id, ts=ts, kind=kind, actor=actor, data=data
        )
    )


def events_of(conn: Connection, incident_id: int) -> list[Any]:
    query = select(incident_events).where(incident_events.c.incident_id == incident_id)
    return list(conn.execute(query.order_by(incident_events.c.id)))


def add_page(conn: Connection, **values: Any) -> None:
    conn.execute(insert(incident_pages).values(**values))


def pages_of(conn: Connection, incident_id: int) -> list[Any]:
    query = select(incident_pages).where(incident_pages.c.incident_id == incident_id)
    return list(conn.execute(query.order_by(incident_pages.c.id)))


def pages_between(conn: Connection, start: datetime, end: datetime) -> list[Any]:
    query = select(incident_pages.c.person, incident_pages.c.at).where(
        incident_pages.c.person.is_not(None),
        incident_pages.c.at >= start,
        incident_pages.c.at < end,
    )
    return list(conn.execute(query))


def cancel_pending(conn: Connection, outbox_ids: list[int]) -> int:
    """Withdraw notifications not yet sent (a later contact rule after an acknowledgement)."""
    if not outbox_ids:
        return 0
    result = conn.execute(
        update(outbox)
        .where(
            and_(
                outbox.c.id.in_(outbox_ids),
                outbox.c.status == "pending",
                outbox.c.attempts == 0,
                outbox.c.claimed_by.is_(None),
            )
        )
        .values(status="cancelled")
    )
    return int(result.rowcount)


def page_deliveries(conn: Connection, outbox_ids: list[int]) -> list[Any]:
    """The messages a page queued, with the channel each went to and how it went."""
    if not outbox_ids:
        return []
    query = (
        select(
            outbox.c.id,
            channels.c.name.label("channel"),
            outbox.c.status,
            outbox.c.next_attempt_at,
            outbox.c.sent_at,
            outbox.c.last_error,
        )
        .join(channels, channels.c.id == outbox.c.channel_id)
        .where(outbox.c.id.in_(outbox_ids))
        .order_by(outbox.c.id)
    )
    return list(conn.execute(query))


def paged_channels(conn: Connection, outbox_ids: list[int]) -> list[int]:
    """The channels these page messages went to, or are still going to (not withdrawn or failed)."""
    if not outbox_ids:
        return []
    query = (
        select(outbox.c.channel_id)
        .where(
            outbox.c.id.in_(outbox_ids),
            outbox.c.status.in_(("sent", "pending")),
            outbox.c.channel_id.is_not(None),
        )
        .distinct()
        .order_by(outbox.c.channel_id)
    )
    return [int(c) for c in conn.execute(query).scalars()]


def count_open(conn: Connection) -> int:
    return int(
        conn.execute(select(func.count()).where(incidents.c.open_key.is_not(None))).scalar() or 0
    )
