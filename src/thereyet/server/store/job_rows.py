"""Columns of several jobs' rows written in one statement, their rows locked in id order.

A group of runs (pings, above all) notes on each job how its latest run ended and,
for a job on a schedule, which occurrence it waits for next. Two nodes writing the
same jobs lock their rows in the same order (by id), so they cannot deadlock.

On PostgreSQL the statement is held (store.pipeline): it goes with the next statement
or the COMMIT, not in a round trip of its own. A CTE locks the rows in id order
first, then the UPDATE joins it; the join's plan depends on how many jobs there are,
so the statement is planned afresh each time. Elsewhere it is SQLAlchemy's
executemany, one row after the other in id order.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, update
from sqlalchemy.sql.dml import Update

from . import pipeline
from .tables import jobs

# The columns written this way, with their PostgreSQL array type.
_PG_TYPES = {
    "last_status": "text",
    "due_at": "timestamptz",
    "alert_at": "timestamptz",
    "schedule_state": "text",
}


def set_columns(conn: Connection, values: Mapping[int, Mapping[str, Any]]) -> None:
    """Set columns of several jobs: job id -> {column: value}, the same columns for
    each job."""
    if not values:
        return
    ids = sorted(values)
    columns = tuple(values[ids[0]])
    if conn.dialect.name == "postgresql":
        arrays = [[values[j][c] for j in ids] for c in columns]
        with pipeline.held(conn):
            pipeline.execute(conn, _pg_statement(columns), (ids, *arrays))
        return
    rows = [{"p_id": j, **{f"v_{c}": values[j][c] for c in columns}} for j in ids]
    conn.execute(_statement(columns), rows)


@functools.cache
def _statement(columns: tuple[str, ...]) -> Update:
    sets: dict[str, Any] = {c: bindparam(f"v_{c}") for c in columns}
    return update(jobs).where(jobs.c.id == bindparam("p_id")).values(sets)


@functools.cache
def _pg_statement(columns: tuple[str, ...]) -> str:
    unknown = set(columns) - set(_PG_TYPES)
    if unknown:
        raise ValueError(f"not columns written together: {sorted(unknown)}")
    arrays = ", ".join(f"%s::{_PG_TYPES[c]}[]" for c in columns)
    names = ", ".join(columns)
    return pipeline.planned_afresh(
        f"WITH v AS MATERIALIZED (SELECT j.id, {', '.join(f'u.{c}' for c in columns)}"  # noqa: S608 (names checked above)
        f" FROM unnest(%s::bigint[], {arrays}) AS u(id, {names})"
        " JOIN jobs AS j ON j.id = u.id ORDER BY j.id FOR NO KEY UPDATE OF j) "
        f"UPDATE jobs SET {', '.join(f'{c} = v.{c}' for c in columns)} FROM v WHERE jobs.id = v.id"
    )
