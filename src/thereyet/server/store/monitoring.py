"""Schedules, watches and their claims; job events; ping keys.

Every change the scheduler or the monitor makes is a conditional UPDATE whose
row count says whether this node won it: with several hub nodes on one
PostgreSQL database, the loser's UPDATE waits for the winner's commit, then
matches no row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, bindparam, insert, or_, select, update

from ..domain.monitoring import LIMIT_FIELDS
from ..domain.runs import RunStatus
from . import job_rows
from .claims import unlocked
from .tables import job_events, jobs, ping_keys, runs

UNFINISHED = (RunStatus.QUEUED.value, RunStatus.RUNNING.value, RunStatus.LOST.value)


# Built once: the ping path and every run start look jobs up.
_JOB_BY_NAME = select(jobs).where(jobs.c.name == bindparam("p_name"))
_JOB_BY_ID = select(jobs).where(jobs.c.id == bindparam("p_id"))
_JOB_BY_PING_UUID = select(jobs).where(jobs.c.ping_uuid == bindparam("p_uuid"))


def job_row(conn: Connection, name: str) -> Any:
    return conn.execute(_JOB_BY_NAME, {"p_name": name}).first()


def job_row_by_id(conn: Connection, job_id: int) -> Any:
    return conn.execute(_JOB_BY_ID, {"p_id": job_id}).first()


def job_by_ping_uuid(conn: Connection, ping_uuid: str) -> Any:
    return conn.execute(_JOB_BY_PING_UUID, {"p_uuid": ping_uuid}).first()


_JOBS_BY_NAMES = select(jobs).where(jobs.c.name.in_(bindparam("p_names", expanding=True)))


def jobs_by_names(conn: Connection, names: list[str]) -> list[Any]:
    return list(conn.execute(_JOBS_BY_NAMES, {"p_names": names}))


def set_jobs_watch(conn: Connection, values: list[dict[str, Any]]) -> None:
    """Set due_at, alert_at and schedule_state of several jobs (p_id each), in one
    statement (store.job_rows)."""
    job_rows.set_columns(
        conn, {v["p_id"]: {k: x for k, x in v.items() if k != "p_id"} for v in values}
    )


def update_job(conn: Connection, job_id: int, **values: Any) -> None:
    conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))


# -- the scheduler: occurrences of jobs the hub starts itself --------------------------


def due_started_jobs(conn: Connection, now: datetime, limit: int) -> list[Any]:
    """Jobs with a target whose next occurrence is due, oldest due first."""
    query = (
        select(jobs)
        .where(jobs.c.due_at <= now, jobs.c.target.is_not(None), jobs.c.schedule.is_not(None))
        .order_by(jobs.c.due_at, jobs.c.id)
        .limit(limit)
    )
    return list(conn.execute(query))


def claim_occurrence(conn: Connection, job_id: int, due: datetime, next_due: datetime) -> bool:
    """Move the job past the occurrence `due`; True only for the one node that did."""
    result = conn.execute(
        update(jobs)
        .where(unlocked(jobs, jobs.c.id == job_id, jobs.c.due_at == due))
        .values(due_at=next_due)
    )
    return result.rowcount == 1


# -- the monitor: jobs waiting for a start, unfinished runs ---------------------------


def watched_jobs(conn: Connection, now: datetime, limit: int) -> list[Any]:
    """Scheduled jobs started elsewhere that the monitor must look at now."""
    query = (
        select(jobs)
        .where(jobs.c.alert_at <= now, jobs.c.target.is_(None), jobs.c.schedule.is_not(None))
        .order_by(jobs.c.alert_at, jobs.c.id)
        .limit(limit)
    )
    return list(conn.execute(query))


class JobClaim(NamedTuple):
    """The monitor's change to a job waiting for a start, made only if the job is as it
    was read (alert_at and schedule_state) and no other transaction holds its row."""

    job_id: int
    seen_alert_at: datetime
    seen_state: str | None
    due_at: datetime
    schedule_state: str | None
    alert_at: datetime | None


def claim_job_changes(conn: Connection, claims: Sequence[JobClaim]) -> set[int]:
    """Make each claim that still holds; return the ids of the jobs changed. On
    PostgreSQL one statement for them all, their rows locked in id order (as
    store.job_rows locks them); elsewhere one statement a job."""
    if not claims:
        return set()
    if conn.dialect.name == "postgresql":
        ordered = sorted(claims)
        columns = list(zip(*ordered, strict=True))
        found = conn.exec_driver_sql(_PG_CLAIMS, tuple(list(c) for c in columns))
        return set(found.scalars())
    return {c.job_id for c in claims if _claim_one(conn, c)}


_PG_CLAIMS = (
    "WITH v AS MATERIALIZED (SELECT j.id, u.due_at, u.schedule_state, u.alert_at "
    "FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[], %s::timestamptz[], "
    "%s::text[], %s::timestamptz[]) "
    "AS u(id, seen_alert_at, seen_state, due_at, schedule_state, alert_at) "
    "JOIN jobs AS j ON j.id = u.id AND j.alert_at = u.seen_alert_at "
    "AND j.schedule_state IS NOT DISTINCT FROM u.seen_state "
    "ORDER BY j.id FOR NO KEY UPDATE OF j SKIP LOCKED) "
    "UPDATE jobs SET due_at = v.due_at, schedule_state = v.schedule_state, "
    "alert_at = v.alert_at FROM v WHERE jobs.id = v.id RETURNING jobs.id"
)


def _claim_one(conn: Connection, claim: JobClaim) -> bool:
    state = (
        jobs.c.schedule_state.is_(None)
        if claim.seen_state is None
        else jobs.c.schedule_state == claim.seen_state
    )
    result = conn.execute(
        update(jobs)
        .where(
            unlocked(jobs, jobs.c.id == claim.job_id, jobs.c.alert_at == claim.seen_alert_at, state)
        )
        .values(due_at=claim.due_at, schedule_state=claim.schedule_state, alert_at=claim.alert_at)
    )
    return result.rowcount == 1


def watched_runs(conn: Connection, limit: int = 5000) -> list[Any]:
    """Unfinished runs of jobs with limits, or runs the scheduler started for an occurrence."""
    has_limits = or_(
        *[jobs.c[name].is_not(None) for name in LIMIT_FIELDS], runs.c.due_at.is_not(None)
    )
    query = (
        select(
            runs.c.id,
            runs.c.status,
            runs.c.created_at,
            runs.c.started_at,
            runs.c.progress_at,
            runs.c.heartbeat_at,
            runs.c.due_at,
            runs.c.late_at,
            runs.c.stalled_at,
            runs.c.overdue_at,
            jobs.c.id.label("job_id"),
            jobs.c.name.label("job"),
            jobs.c.schedule,
            jobs.c.timezone,
            *[jobs.c[name] for name in LIMIT_FIELDS],
        )
        .join(jobs, jobs.c.id == runs.c.job_id)
        .where(runs.c.status.in_(UNFINISHED), has_limits)
        .order_by(runs.c.created_at)
        .limit(limit)
    )
    return list(conn.execute(query))


def claim_run_flags(
    conn: Connection, run_id: str, seen: dict[str, datetime | None], values: dict[str, Any]
) -> bool:
    """Set run flags unless they changed since they were read (then another node did it)."""
    conditions = [runs.c.id == run_id]
    for name, old in seen.items():
        conditions.append(runs.c[name].is_(None) if old is None else runs.c[name] == old)
    result = conn.execute(update(runs).where(unlocked(runs, and_(*conditions))).values(**values))
    return result.rowcount == 1


def set_run_columns(conn: Connection, run_id: str, **values: Any) -> None:
    names = tuple(sorted(values))
    statement = _SET_RUN_COLUMNS.get(names)
    if statement is None:
        statement = _SET_RUN_COLUMNS[names] = (
            update(runs)
            .where(runs.c.id == bindparam("p_run_id"))
            .values({name: bindparam(f"v_{name}") for name in names})
        )
    conn.execute(statement, {"p_run_id": run_id, **{f"v_{k}": v for k, v in values.items()}})


_SET_RUN_COLUMNS: dict[tuple[str, ...], Any] = {}  # built once per set of columns


def run_columns(conn: Connection, run_id: str) -> Any:
    query = select(runs.c.due_at, runs.c.ping_rid, runs.c.late_at, runs.c.stalled_at).where(
        runs.c.id == run_id
    )
    return conn.execute(query).first()


def _open_ping_run(with_rid: bool) -> Any:
    # No ORDER BY: with one, SQLite walks ix_runs_job_created (every run the job ever
    # had) to avoid a sort; without, it seeks ix_runs_job_status to the job's few
    # unfinished runs, and the newest is picked here.
    return select(runs.c.id, runs.c.created_at).where(
        runs.c.job_id == bindparam("p_job_id"),
        runs.c.status.in_(UNFINISHED),
        runs.c.trigger == "ping",
        runs.c.ping_rid == bindparam("p_rid") if with_rid else runs.c.ping_rid.is_(None),
    )


_OPEN_PING_RUN = {True: _open_ping_run(True), False: _open_ping_run(False)}


def open_ping_run(conn: Connection, job_id: int, rid: str | None) -> str | None:
    """The newest unfinished run of the job started by a ping (with this rid, if given).

    Its cost does not grow with the job's history: see ix_runs_job_status."""
    params: dict[str, Any] = {"p_job_id": job_id, "p_rid": rid}
    found = conn.execute(_OPEN_PING_RUN[rid is not None], params).all()
    return max(found, key=lambda row: (row.created_at, row.id)).id if found else None


def latest_run(conn: Connection, job_id: int) -> str | None:
    query = select(runs.c.id).where(runs.c.job_id == job_id)
    return conn.execute(query.order_by(runs.c.created_at.desc()).limit(1)).scalar()


# -- job events ---------------------------------------------------------------------


def insert_job_event(
    conn: Connection,
    job_id: int,
    *,
    kind: str,
    ts: datetime,
    data: dict[str, Any],
    run_id: str | None = None,
) -> None:
    conn.execute(
        insert(job_events).values(job_id=job_id, run_id=run_id, kind=kind, ts=ts, data=data)
    )


def insert_job_events(conn: Connection, events: list[dict[str, Any]]) -> None:
    """Several job events (job_id, run_id, kind, ts, data each) in one executemany."""
    if events:
        conn.execute(insert(job_events), events)


def list_job_events(conn: Connection, job_id: int, limit: int) -> list[Any]:
    query = (
        select(job_events)
        .where(job_events.c.job_id == job_id)
        .order_by(job_events.c.seq.desc())
        .limit(limit)
    )
    return list(reversed(list(conn.execute(query))))


# -- ping keys ----------------------------------------------------------------------


def insert_ping_key(conn: Connection, **values: Any) -> None:
    conn.execute(insert(ping_keys).values(**values))


def ping_key_by_hash(conn: Connection, key_hash: str) -> Any:
    query = select(ping_keys).where(
        ping_keys.c.key_hash == key_hash, ping_keys.c.revoked_at.is_(None)
    )
    return conn.execute(query).first()


def list_ping_keys(conn: Connection) -> list[Any]:
    return list(conn.execute(select(ping_keys).order_by(ping_keys.c.created_at)))


def revoke_ping_key(conn: Connection, key_id: str, now: datetime) -> bool:
    result = conn.execute(
        update(ping_keys)
        .where(ping_keys.c.id == key_id, ping_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1
