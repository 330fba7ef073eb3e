"""Reading what the jobs page shows of every job's recent runs, in one query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from .tables import jobs, runs


def recent_runs_by_job(conn: Connection, per_job: int) -> dict[str, list[Any]]:
    """Each job's latest `per_job` runs, newest first: status, times and host.

    One windowed query (SQLite 3.25+ and PostgreSQL both number rows per job), so
    the page costs the same with 5 jobs or 500."""
    numbered = select(
        runs.c.job_id,
        runs.c.id,
        runs.c.status,
        runs.c.host,
        runs.c.created_at,
        runs.c.started_at,
        runs.c.finished_at,
        func.row_number()
        .over(partition_by=runs.c.job_id, order_by=(runs.c.created_at.desc(), runs.c.id.desc()))
        .label("place"),
    ).subquery()
    query = (
        select(jobs.c.name, numbered)
        .join(jobs, jobs.c.id == numbered.c.job_id)
        .where(numbered.c.place <= per_job)
        .order_by(jobs.c.name, numbered.c.place)
    )
    found: dict[str, list[Any]] = {}
    for row in conn.execute(query):
        found.setdefault(row.name, []).append(row)
    return found
