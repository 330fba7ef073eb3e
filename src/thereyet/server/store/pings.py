"""What pings made together need from the database, a group at a time; and pruning.

Each function here is one statement for a whole group of pings (or one
bounded step of pruning), so a group of a hundred pings costs a handful of
statements rather than a hundred times as many.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, select

from ..domain.ratelimit import Bucket
from ..domain.runs import Run, RunStatus
from . import job_rows, pipeline
from . import runs as run_store
from .many_rows import insert_rows
from .runs import RUN_FIELDS
from .tables import attachments, job_events, jobs, rooms, run_events, run_rooms, runs

# -- what a job's rooms were last told ---------------------------------------------

_CARD_FACTS = select(jobs.c.id, jobs.c.room_cards, jobs.c.last_status).where(
    jobs.c.name == bindparam("p_name")
)


def card_facts(conn: Connection, job: str) -> Any:
    """The job's id, room_cards setting and last_status (None if there is no such job)."""
    return conn.execute(_CARD_FACTS, {"p_name": job}).first()


def set_last_statuses(conn: Connection, ends: Sequence[tuple[int, str]]) -> None:
    """Note how each job's latest run ended: (job id, status) pairs, a job's last pair
    winning (store.job_rows: one statement, rows locked in id order)."""
    job_rows.set_columns(conn, {job: {"last_status": status} for job, status in ends})


# -- a group of pings --------------------------------------------------------------
# Plain SQL on the driver, with the ids as one parameter (json_each on SQLite,
# ANY on PostgreSQL): an IN list is rendered anew for every group size, and
# SQLAlchemy's per-row processing cost more than SQLite itself here.


@dataclass(frozen=True)
class PingedJob:
    """What a group of pings needs to know of each check's job."""

    id: int
    name: str
    ping_uuid: str | None
    room_cards: str | None
    last_status: str | None
    scheduled: bool  # has a schedule the hub waits for (no target of its own)
    opened: bool = False  # has an unfinished run a ping started (without a rid)
    rooms: tuple[int, ...] = ()  # its rooms' ids, in order
    open_incident: bool = True  # has an open incident (True when not known)
    routed: bool = True  # the hub has an enabled notification route (True when not known)
    watch: WatchedSchedule | None = None  # when `scheduled`: what its next occurrence needs


class WatchedSchedule(NamedTuple):
    """A scheduled check's schedule, limits and the occurrence it waits for, named as the
    job's row names them: what the group's starts need to work out the occurrence each
    job waits for next (and whether the one it waited for was missed unsaid), read with
    the group's checks rather than in a statement of its own."""

    id: int
    name: str
    schedule: str
    timezone: str | None
    grace: float | None
    start_deadline: float | None
    max_duration: float | None
    stall_after: float | None
    lost_after: float | None
    due_at: datetime | None
    alert_at: datetime | None
    schedule_state: str | None
    target: None = None  # a check has no target of its own


# The columns of the checks read that make a WatchedSchedule, after its id and name.
_WATCHED = WatchedSchedule._fields[2:-1]


def _watched(row: Sequence[Any]) -> WatchedSchedule:
    """A WatchedSchedule from the checks read's id, name and _WATCHED columns (read by the
    driver: SQLite gives its times as text)."""
    values = dict(zip(_WATCHED, row[2:], strict=True))
    for name in ("due_at", "alert_at"):
        at = values[name]
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        values[name] = at if at is None or at.tzinfo else at.replace(tzinfo=UTC)
    return WatchedSchedule(row[0], row[1], **values)


def _ids_param(conn: Connection, ids: Sequence[Any]) -> tuple[str, Any]:
    if conn.dialect.name == "postgresql":
        return "= ANY(%s)", list(ids)
    return "IN (SELECT value FROM json_each(?))", json.dumps(list(ids))


# The job has an unfinished run a ping started (without a rid): ix_runs_job_status.
_UNFINISHED = ", ".join(
    f"'{s.value}'" for s in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.LOST)
)
_OPEN_PING_RUN = (
    "EXISTS (SELECT 1 FROM runs WHERE runs.job_id = jobs.id "  # noqa: S608 (constants)
    f"AND runs.status IN ({_UNFINISHED}) AND runs.trigger = 'ping' AND runs.ping_rid IS NULL)"
)


@functools.cache
def _jobs_statement(dialect: str, where: str) -> str:
    """The group's read of its checks, built once per backend. On PostgreSQL it is planned
    afresh (store.pipeline): whether a check has an open run is read through
    ix_runs_job_status, where a plan prepared while `runs` was small read the whole table
    in every group (bench/ping.py, 200 checks: 1.9 ms a group prepared; 0.1 ms, and 0.4 ms
    of planning, afresh)."""
    postgres = dialect == "postgresql"
    room_list = "string_agg(room_id::text, ',')" if postgres else "group_concat(room_id)"
    statement = (
        "SELECT id, name, ping_uuid, room_cards, last_status, "  # noqa: S608 (no user text)
        f"schedule IS NOT NULL AND target IS NULL, {_OPEN_PING_RUN}, "
        f"(SELECT {room_list} FROM job_rooms WHERE job_rooms.job_id = jobs.id), "
        "EXISTS (SELECT 1 FROM incidents WHERE incidents.job = jobs.name "
        "AND incidents.open_key IS NOT NULL), "
        "EXISTS (SELECT 1 FROM routes JOIN channels ON channels.id = routes.channel_id "
        "WHERE channels.disabled_at IS NULL), "
        f"{', '.join(_WATCHED)} FROM jobs WHERE ping_uuid {where}"
    )
    return pipeline.planned_afresh(statement) if postgres else statement


def _pinged_jobs(rows: Sequence[Any]) -> dict[str, PingedJob]:
    return {
        row[2]: PingedJob(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            bool(row[5]),
            opened=bool(row[6]),
            rooms=tuple(sorted(int(x) for x in row[7].split(","))) if row[7] else (),
            open_incident=bool(row[8]),
            routed=bool(row[9]),
            watch=_watched((row[0], row[1], *row[10:])) if row[5] else None,
        )
        for row in rows
    }


def jobs_by_ping_uuids(conn: Connection, ping_uuids: Sequence[str]) -> dict[str, PingedJob]:
    """The jobs these ping URLs belong to, by ping uuid (unknown ones are left out), each
    with whether it has an open run a ping started, its rooms, whether it has an open
    incident and whether the hub has any notification route: one statement (each is a
    round trip on PostgreSQL) for what the group and its status hooks would ask one by
    one; the open run is found through ix_runs_job_status."""
    where, param = _ids_param(conn, ping_uuids)
    return _pinged_jobs(_fetch(conn, _jobs_statement(conn.dialect.name, where), (param,)))


# store.rate_buckets' lock, for the buckets of the checks these ping URLs belong to that
# have no open ping run (the ones the group's pings would spend), in key order.
_LOCK_CHECKS_BUCKETS = pipeline.planned_afresh(
    "INSERT INTO rate_buckets AS b (key, tokens, at) "  # noqa: S608 (constants)
    "SELECT %s || jobs.name, %s, %s FROM jobs "
    f"WHERE ping_uuid = ANY(%s) AND NOT {_OPEN_PING_RUN} ORDER BY 1 "
    "ON CONFLICT (key) DO UPDATE SET tokens = b.tokens "
    "RETURNING b.key, b.tokens, b.at"
)


def jobs_and_buckets(
    conn: Connection, ping_uuids: Sequence[str], key_prefix: str, full: float, now: datetime
) -> tuple[dict[str, PingedJob], dict[str, Bucket]]:
    """PostgreSQL: jobs_by_ping_uuids, and the per-check limit's buckets (keys: `key_prefix`
    and the check's name) of those checks with no open ping run, made full if new and
    locked until the transaction ends (as store.rate_buckets.lock_buckets does): two
    statements in one round trip."""
    where, param = _ids_param(conn, ping_uuids)
    job_rows, bucket_rows = pipeline.fetch_each(
        conn,
        [
            (_jobs_statement(conn.dialect.name, where), (param,)),
            (_LOCK_CHECKS_BUCKETS, (key_prefix, full, now, param)),
        ],
    )
    return _pinged_jobs(job_rows), {row[0]: Bucket(row[1], row[2]) for row in bucket_rows}


def _fetch(conn: Connection, statement: str, params: tuple[Any, ...]) -> list[Any]:
    return list(conn.exec_driver_sql(statement, params).all())


_ROOM_NAMES = select(rooms.c.id, rooms.c.name).where(
    rooms.c.id.in_(bindparam("p_ids", expanding=True))
)


def room_names(conn: Connection, room_ids: Sequence[int]) -> dict[int, str]:
    if not room_ids:
        return {}
    found = conn.execute(_ROOM_NAMES, {"p_ids": sorted(set(room_ids))})
    return {row.id: row.name for row in found}


def insert_runs(conn: Connection, made: Sequence[tuple[Run, int]], now: datetime) -> None:
    """Insert new runs, (run, job id) pairs, in one executemany of plain tuples."""
    if not made:
        return
    postgres = conn.dialect.name == "postgresql"
    bind_ts = run_store._utc if postgres else run_store._sqlite_datetime
    mark = "%s" if postgres else "?"
    names = ["id", "job_id", "created_at", "updated_at", *RUN_FIELDS]
    marks = [run_store._placeholder(name, mark, postgres) for name in names]
    head = f"INSERT INTO runs ({', '.join(run_store._quoted(n) for n in names)}) VALUES "  # noqa: S608 (column names)
    at = bind_ts(now)
    rows = [
        (
            run.id,
            job_id,
            bind_ts(run.created_at),
            at,
            *[run_store._bind_field(name, getattr(run, name), bind_ts) for name in RUN_FIELDS],
        )
        for run, job_id in made
    ]
    _insert(conn, head, f"({', '.join(marks)})", rows)


def add_runs_rooms(conn: Connection, pairs: Sequence[tuple[str, int]]) -> None:
    """Put runs in rooms: (run id, room id) pairs (store.pipeline may send it later)."""
    if pairs:
        mark = "%s" if conn.dialect.name == "postgresql" else "?"
        _insert(conn, "INSERT INTO run_rooms (run_id, room_id) VALUES ", f"({mark}, {mark})", pairs)


def _insert(conn: Connection, head: str, row_marks: str, rows: Sequence[Sequence[Any]]) -> None:
    """Rows of plain values through the driver's own cursor: an executemany on
    PostgreSQL (psycopg sends it at once), a few multi-row statements on SQLite."""
    if conn.dialect.name == "postgresql":  # in a held block, it waits (store.pipeline)
        pipeline.executemany(conn, head + row_marks, rows)
        return
    with contextlib.closing(pipeline.cursor(conn)) as cursor:
        insert_rows(cursor, head, row_marks, rows)


# -- retention -----------------------------------------------------------------------

_FINISHED = [s.value for s in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)]


def jobs_after(conn: Connection, after_id: int, limit: int) -> list[int]:
    """Job ids greater than `after_id`, in order: the pruner walks all jobs a slice at a time."""
    query = select(jobs.c.id).where(jobs.c.id > after_id).order_by(jobs.c.id).limit(limit)
    return list(conn.execute(query).scalars())


def old_runs(conn: Connection, job_id: int, keep: int, limit: int) -> list[str]:
    """Ids of up to `limit` finished runs of the job beyond its `keep` newest runs.

    Reads the `keep` newest entries of ix_runs_job_created and then only what is
    to go, so its cost follows `keep` and `limit`, not the job's whole history."""
    newest = (
        select(runs.c.created_at)
        .where(runs.c.job_id == job_id)
        .order_by(runs.c.created_at.desc())
        .offset(keep - 1)
        .limit(1)
    )
    cutoff = conn.execute(newest).scalar()
    if cutoff is None:
        return []
    query = (
        select(runs.c.id)
        .where(
            runs.c.job_id == job_id,
            runs.c.created_at < cutoff,
            runs.c.status.in_(_FINISHED),
        )
        .order_by(runs.c.created_at)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def delete_runs(conn: Connection, run_ids: Sequence[str]) -> None:
    """Delete runs with their events, rooms and attachments."""
    if not run_ids:
        return
    ids = list(run_ids)
    for table in (run_events, run_rooms, attachments):
        conn.execute(delete(table).where(table.c.run_id.in_(ids)))
    conn.execute(delete(runs).where(runs.c.id.in_(ids)))


def prune_job_events(conn: Connection, job_id: int, keep: int, limit: int) -> int:
    """Delete up to `limit` of the job's events beyond its `keep` newest; how many went."""
    newest = (
        select(job_events.c.seq)
        .where(job_events.c.job_id == job_id)
        .order_by(job_events.c.seq.desc())
        .offset(keep - 1)
        .limit(1)
    )
    cutoff = conn.execute(newest).scalar()
    if cutoff is None:
        return 0
    doomed = (
        select(job_events.c.seq)
        .where(job_events.c.job_id == job_id, job_events.c.seq < cutoff)
        .order_by(job_events.c.seq)
        .limit(limit)
    )
    seqs = list(conn.execute(doomed).scalars())
    if seqs:
        conn.execute(delete(job_events).where(job_events.c.seq.in_(seqs)))
    return len(seqs)
