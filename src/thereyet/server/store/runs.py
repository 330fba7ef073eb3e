"""Reading and writing runs and their events."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, insert, or_, select

from thereyet.eta import Estimator

from ..domain.runs import Run, RunFilter, RunStatus
from . import pipeline
from .many_rows import insert_rows
from .tables import jobs, rooms, run_events, run_rooms, runs
from .text import dumps as json_text
from .text import storable_text

RUN_FIELDS = [
    "status",
    "host",
    "pid",
    "user",
    "trigger",
    "started_at",
    "finished_at",
    "done",
    "total",
    "unit",
    "rate",
    "progress_at",
    "heartbeat_at",
    "stats",
    "log_tail",
    "exit_code",
    "error",
    "node",
    "eta",
]


def _to_run(row: Any, job_name: str) -> Run:
    values = {name: getattr(row, name) for name in RUN_FIELDS}
    values["status"] = RunStatus(values["status"])
    run = Run(id=row.id, job=job_name, created_at=row.created_at, **values)
    run.eta = _estimator(run, row.eta)
    return run


def _estimator(run: Run, state: Any) -> Estimator | None:
    """The run's estimator as kept, caught up with its latest progress (the state is
    written when its knots change, not at every report)."""
    if state is None:
        return None
    estimator = Estimator.from_state(state)
    if run.started_at is not None and run.progress_at is not None and run.done is not None:
        estimator.catch_up((run.progress_at - run.started_at).total_seconds(), run.done)
    return estimator


def _run_select() -> Any:
    return select(runs, jobs.c.name.label("job_name")).join(jobs, jobs.c.id == runs.c.job_id)


# The statements of the ingestion path are built once: building them anew on
# every call cost more than running them.
_LOAD_RUN = _run_select().where(runs.c.id == bindparam("p_run_id"))
_ROOMS_OF_RUN = (
    select(rooms.c.id, rooms.c.name)
    .join(run_rooms, run_rooms.c.room_id == rooms.c.id)
    .where(run_rooms.c.run_id == bindparam("p_run_id"))
    .order_by(rooms.c.name)
)


def load_run(conn: Connection, run_id: str) -> Run | None:
    row = conn.execute(_LOAD_RUN, {"p_run_id": run_id}).first()
    return _to_run(row, row.job_name) if row else None


def load_run_version(conn: Connection, run_id: str) -> tuple[Run, int] | None:
    """The run and the version of its row (see run_version)."""
    row = conn.execute(_LOAD_RUN, {"p_run_id": run_id}).first()
    return (_to_run(row, row.job_name), row.version) if row else None


def run_version(conn: Connection, run_id: str) -> int | None:
    """The version of a run's row, which every change raises; None if there is no such run.

    On PostgreSQL the row is locked until the transaction ends, so that what the
    caller then writes cannot race another hub's change of the same run."""
    return run_versions(conn, [run_id]).get(run_id)


def run_versions(conn: Connection, run_ids: Sequence[str]) -> dict[str, int]:
    """run_version for many runs in one statement (on PostgreSQL, locked in id order)."""
    if conn.dialect.name == "postgresql":
        query = "SELECT id, version FROM runs WHERE id = ANY(%b) ORDER BY id FOR UPDATE"
        params: tuple[Any, ...] = (list(run_ids),)
    else:
        query = "SELECT id, version FROM runs WHERE id IN (SELECT value FROM json_each(?))"
        params = (json.dumps(list(run_ids)),)
    return {run_id: int(version) for run_id, version in _raw(conn, query, params, fetch="all")}


def update_run(
    conn: Connection, run: Run, fields: Sequence[str], now: datetime, **extra: str | None
) -> None:
    """Write only `fields` of the run, and `extra` columns (finish_id), and raise its version.

    A progress report changes four or five columns; writing all of them would
    also re-encode the stats and a log tail of up to 64 KiB every time."""
    statement, bind_ts = _update_statement(conn, fields, tuple(extra))
    params = [_bind_field(name, getattr(run, name), bind_ts) for name in fields]
    _raw(conn, statement, (*params, *extra.values(), bind_ts(now), run.id))


def update_runs(
    conn: Connection, changed: Sequence[Run], fields: Sequence[str], now: datetime
) -> None:
    """update_run for runs that changed the same fields, each run once: on PostgreSQL
    one statement, elsewhere one executemany."""
    if conn.dialect.name == "postgresql":
        # Each field's values as one binary array: one statement, parsed and prepared
        # once per set of fields, where executemany sent (and psycopg handled) a
        # statement per run.
        columns = [
            [_pg_array_value(name, _bind_field(name, getattr(run, name), _utc)) for run in changed]
            for name in fields
        ]
        ids = [run.id for run in changed]
        _raw(conn, _pg_update_many(tuple(fields)), (_utc(now), *columns, ids))  # in text order
        return
    statement, bind_ts = _update_statement(conn, fields, ())
    at = bind_ts(now)
    rows = [
        (*[_bind_field(name, getattr(run, name), bind_ts) for name in fields], at, run.id)
        for run in changed
    ]
    with contextlib.closing(pipeline.cursor(conn)) as cursor:
        cursor.executemany(statement, rows)


def _update_statement(
    conn: Connection, fields: Sequence[str], extra: tuple[str, ...]
) -> tuple[str, Any]:
    postgres = conn.dialect.name == "postgresql"
    bind_ts = _utc if postgres else _sqlite_datetime
    key = (postgres, tuple(fields), extra)
    statement = _UPDATES.get(key)
    if statement is None:
        if not set(fields) <= _FIELD_SET or not set(extra) <= _EXTRA_COLUMNS:
            unknown = (set(fields) - _FIELD_SET) | (set(extra) - _EXTRA_COLUMNS)
            raise ValueError(f"not run fields: {sorted(unknown)}")
        mark = "%s" if postgres else "?"
        sets = [f"{_quoted(name)} = {_placeholder(name, mark, postgres)}" for name in fields]
        sets += [f"{name} = {mark}" for name in extra]
        sets += [f"updated_at = {mark}", "version = version + 1"]
        statement = _UPDATES[key] = f"UPDATE runs SET {', '.join(sets)} WHERE id = {mark}"  # noqa: S608 (names checked above)
    return statement, bind_ts


_UPDATES: dict[tuple[bool, tuple[str, ...], tuple[str, ...]], str] = {}


def _pg_update_many(fields: tuple[str, ...]) -> str:
    statement = _PG_UPDATES_MANY.get(fields)
    if statement is None:
        if not set(fields) <= _FIELD_SET:
            raise ValueError(f"not run fields: {sorted(set(fields) - _FIELD_SET)}")
        names = [f"c{i}" for i in range(len(fields))]
        arrays = [f"CAST(%b AS {_PG_ARRAY_TYPES[name]})" for name in fields]
        sets = [
            f"{_quoted(name)} = {_placeholder(name, 'v.' + col, True)}"
            for name, col in zip(fields, names, strict=True)
        ]
        statement = _PG_UPDATES_MANY[fields] = (
            f"UPDATE runs SET {', '.join(sets)}, updated_at = %b, version = runs.version + 1"  # noqa: S608 (names checked above)
            f" FROM unnest({', '.join(arrays)}, CAST(%b AS TEXT[])) AS v({', '.join(names)}, id)"
            " WHERE runs.id = v.id"
        )
    return statement


def _pg_array_value(name: str, value: Any) -> Any:
    # A float column's values all floats: psycopg types a list by its first value,
    # and a progress of 5 (an int) would make it an integer array.
    return float(value) if value is not None and name in _FLOAT_FIELDS else value


_PG_UPDATES_MANY: dict[tuple[str, ...], str] = {}
_FLOAT_FIELDS = frozenset({"done", "total", "rate"})
# Each run field's values as PostgreSQL receives them (JSON as text, cast in the SET).
_PG_ARRAY_TYPES = {
    **dict.fromkeys(RUN_FIELDS, "TEXT[]"),
    **dict.fromkeys(["pid", "exit_code"], "INTEGER[]"),
    **dict.fromkeys(_FLOAT_FIELDS, "DOUBLE PRECISION[]"),
    **dict.fromkeys(["started_at", "finished_at", "progress_at", "heartbeat_at"], "TIMESTAMPTZ[]"),
}
_FIELD_SET = frozenset(RUN_FIELDS)
_EXTRA_COLUMNS = frozenset({"finish_id"})
_JSON_FIELDS = frozenset({"stats", "log_tail", "eta"})
_TIME_FIELDS = frozenset({"started_at", "finished_at", "progress_at", "heartbeat_at"})


def _raw(
    conn: Connection, statement: str, params: tuple[Any, ...], *, fetch: str | bool = False
) -> Any:
    """Run one statement on the driver's own cursor, inside the connection's transaction
    (so without the engine's text hook: callers bind text through _bind_field):
    the first row if `fetch`, all rows if `fetch="all"`, else the count of rows changed.
    For the statements of the ingestion path, where SQLAlchemy's result set-up cost
    more than SQLite."""
    with contextlib.closing(pipeline.cursor(conn)) as cursor:
        cursor.execute(statement, params)
        if fetch == "all":
            return cursor.fetchall()
        return cursor.fetchone() if fetch else cursor.rowcount


def _quoted(name: str) -> str:
    return '"user"' if name == "user" else name  # a reserved word on PostgreSQL


def _placeholder(name: str, mark: str, postgres: bool) -> str:
    return f"CAST({mark} AS JSONB)" if postgres and name in _JSON_FIELDS else mark


def _bind_field(name: str, value: Any, bind_ts: Any) -> Any:
    if value is None:
        return None
    if name in _TIME_FIELDS:
        return bind_ts(value)
    if name == "eta":
        return json.dumps(value.to_state(), separators=(",", ":"))
    if name in _JSON_FIELDS:
        return json_text(value)
    if name == "status":
        return value.value
    # The driver's own cursor skips the engine's hook (store/text.py), so text is made
    # storable here.
    return storable_text(value) if isinstance(value, str) else value


def rooms_of_run(conn: Connection, run_id: str) -> tuple[list[int], list[str]]:
    """The ids and names of the rooms a run posts to, by name."""
    found = conn.execute(_ROOMS_OF_RUN, {"p_run_id": run_id}).all()
    return [row.id for row in found], [row.name for row in found]


def finish_id(conn: Connection, run_id: str) -> str | None:
    return conn.execute(select(runs.c.finish_id).where(runs.c.id == run_id)).scalar()


_INSERT_RUN = insert(runs).values(
    {
        name: bindparam(f"v_{name}")
        for name in ["id", "job_id", "created_at", "updated_at", *RUN_FIELDS]
    }
)


def insert_run(conn: Connection, run: Run, job_id: int, now: datetime) -> None:
    params = {f"v_{name}": getattr(run, name) for name in RUN_FIELDS}
    params["v_status"] = run.status.value
    params["v_eta"] = None if run.eta is None else run.eta.to_state()
    fixed = {"v_id": run.id, "v_job_id": job_id, "v_created_at": run.created_at}
    conn.execute(_INSERT_RUN, {**params, **fixed, "v_updated_at": now})


def add_run_rooms(conn: Connection, run_id: str, room_ids: Iterable[int]) -> None:
    rows = [{"run_id": run_id, "room_id": rid} for rid in sorted(set(room_ids))]
    if rows:
        conn.execute(insert(run_rooms), rows)


def run_room_names(conn: Connection, run_ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {rid: [] for rid in run_ids}
    if not run_ids:
        return found
    query = (
        select(run_rooms.c.run_id, rooms.c.name)
        .join(rooms, rooms.c.id == run_rooms.c.room_id)
        .where(run_rooms.c.run_id.in_(run_ids))
        .order_by(rooms.c.name)
    )
    for run_id, name in conn.execute(query):
        found[run_id].append(name)
    return found


def run_room_ids(conn: Connection, run_id: str) -> list[int]:
    query = select(run_rooms.c.room_id).where(run_rooms.c.run_id == run_id)
    return list(conn.execute(query).scalars())


def known_event_ids(conn: Connection, run_id: str, ids: Sequence[str]) -> set[str]:
    """Which of these client event ids this run already has."""
    if not ids:
        return set()
    # One statement with the ids as one parameter, whatever their number: an
    # IN list would be rendered anew for every batch size.
    if conn.dialect.name == "postgresql":
        query = "SELECT event_id FROM run_events WHERE run_id = %s AND event_id = ANY(%s)"
        params: tuple[Any, ...] = (run_id, list(ids))
    else:
        query = (
            "SELECT event_id FROM run_events WHERE run_id = ? "
            "AND event_id IN (SELECT value FROM json_each(?))"
        )
        params = (run_id, json.dumps(list(ids)))
    return set(conn.exec_driver_sql(query, params).scalars())


_INSERT_EVENTS_HEAD = "INSERT INTO run_events (run_id, event_id, kind, ts, data) VALUES "
_ON_EVENT_CONFLICT = " ON CONFLICT (run_id, event_id) DO NOTHING"
_PG_INSERT_EVENTS = f"{_INSERT_EVENTS_HEAD}(%s, %s, %s, %s, CAST(%s AS JSONB)){_ON_EVENT_CONFLICT}"


def insert_new_event(conn: Connection, row: dict[str, Any]) -> bool:
    """Append one event (as insert_events); False if the run already had its id."""
    return bool(insert_new_events(conn, [row]))


def insert_new_events(conn: Connection, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Append events of several runs in one statement (as insert_events); return the
    (run_id, event_id) of those that were new."""
    if not rows:
        return set()
    if conn.dialect.name == "postgresql":
        # One statement text whatever the number of rows, its columns as binary arrays:
        # psycopg parses and prepares it once, where a VALUES list of 5 placeholders a
        # row was a new text (parsed again, prepared again) for every size of group.
        columns = [list(c) for c in zip(*(_event_params(r, _utc) for r in rows), strict=True)]
        found = _raw(conn, _PG_INSERT_NEW_EVENTS, tuple(columns), fetch="all")
        return {(run_id, event_id) for run_id, event_id in found}
    statement = (  # only placeholders are joined in
        "INSERT INTO run_events (run_id, event_id, kind, ts, data) VALUES "  # noqa: S608
        + ", ".join(["(?, ?, ?, ?, ?)"] * len(rows))
        + " ON CONFLICT (run_id, event_id) DO NOTHING RETURNING run_id, event_id"
    )
    params = tuple(value for row in rows for value in _event_params(row, _sqlite_datetime))
    return {(run_id, event_id) for run_id, event_id in _raw(conn, statement, params, fetch="all")}


_PG_INSERT_NEW_EVENTS = (
    "INSERT INTO run_events (run_id, event_id, kind, ts, data)"
    " SELECT r, e, k, t, CAST(d AS JSONB) FROM unnest(CAST(%b AS TEXT[]), CAST(%b AS TEXT[]),"
    " CAST(%b AS TEXT[]), CAST(%b AS TIMESTAMPTZ[]), CAST(%b AS TEXT[])) AS v(r, e, k, t, d)"
    " ON CONFLICT (run_id, event_id) DO NOTHING RETURNING run_id, event_id"
)


def _event_params(r: dict[str, Any], bind_ts: Any) -> tuple[Any, ...]:
    return (r["run_id"], r["event_id"], r["kind"], bind_ts(r["ts"]), json_text(r["data"]))


def insert_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Append events; an event id the run already has is skipped, never doubled.

    Rows need run_id, event_id, kind, ts (aware) and data (a JSON-able dict).
    This is the ingestion hot path, so the rows go to the driver's executemany
    as plain tuples: SQLAlchemy's per-row bind processing cost several times
    the insert itself. Values are bound as the column types bind them.
    """
    if not rows:
        return
    postgres = conn.dialect.name == "postgresql"
    bind_ts = _utc if postgres else _sqlite_datetime
    params = [_event_params(r, bind_ts) for r in rows]
    # The driver's own cursor: the engine's text hook (store/text.py) would walk every
    # value again, and these are storable already (checked ids, data through json_text).
    if postgres:  # in a held block (store.pipeline), it waits for the next statement
        pipeline.executemany(conn, _PG_INSERT_EVENTS, params)
        return
    with contextlib.closing(pipeline.cursor(conn)) as cursor:
        insert_rows(cursor, _INSERT_EVENTS_HEAD, "(?, ?, ?, ?, ?)", params, _ON_EVENT_CONFLICT)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC)


def _sqlite_datetime(value: datetime) -> str:
    """The text UTCDateTime stores on SQLite: naive UTC, always with microseconds."""
    if value.tzinfo is not UTC:
        value = _utc(value)
    return value.isoformat(" ", "microseconds")[:-6]  # without "+00:00"


def list_events(
    conn: Connection, run_id: str, after: int, limit: int, kinds: tuple[str, ...] | None = None
) -> list[Any]:
    """A run's events in order after `after`; only those of `kinds` when given."""
    query = select(run_events).where(run_events.c.run_id == run_id, run_events.c.seq > after)
    if kinds is not None:
        query = query.where(run_events.c.kind.in_(kinds))
    return list(conn.execute(query.order_by(run_events.c.seq).limit(limit)))


_RECENT_DURATIONS = (
    select(runs.c.started_at, runs.c.finished_at)
    .join(jobs, jobs.c.id == runs.c.job_id)
    .where(
        jobs.c.name == bindparam("p_job"),
        runs.c.status == RunStatus.SUCCEEDED.value,
        runs.c.started_at.is_not(None),
        runs.c.finished_at < bindparam("p_before"),
    )
    .order_by(runs.c.finished_at.desc())
    .limit(bindparam("p_limit"))
)


def recent_durations(
    conn: Connection, job: str, *, before: datetime, limit: int = 10
) -> list[float]:
    """Durations in seconds of the job's latest successful runs, newest first."""
    params = {"p_job": job, "p_before": before, "p_limit": limit}
    return [(end - start).total_seconds() for start, end in conn.execute(_RECENT_DURATIONS, params)]


def recent_eta_states(conn: Connection, job: str, *, limit: int = 20) -> list[Any]:
    """(id, finished_at, eta) of the job's latest successful runs that kept an ETA, newest first."""
    query = (
        select(runs.c.id, runs.c.finished_at, runs.c.eta)
        .join(jobs, jobs.c.id == runs.c.job_id)
        .where(
            jobs.c.name == job,
            runs.c.status == RunStatus.SUCCEEDED.value,
            runs.c.eta.is_not(None),
        )
        .order_by(runs.c.finished_at.desc())
        .limit(limit)
    )
    return list(conn.execute(query))


def _in_room(names: Iterable[str]) -> Any:
    return exists(
        select(run_rooms.c.run_id)
        .join(rooms, rooms.c.id == run_rooms.c.room_id)
        .where(run_rooms.c.run_id == runs.c.id, rooms.c.name.in_(list(names)))
    )


def list_runs(
    conn: Connection, flt: RunFilter, *, before: tuple[datetime, str] | None, limit: int
) -> list[Run]:
    """Runs newest first, matching `flt`; `before` is the (created_at, id) cursor."""
    query = _run_select()
    if flt.job:
        query = query.where(jobs.c.name == flt.job)
    if flt.room:
        query = query.where(_in_room([flt.room]))
    if flt.statuses:
        query = query.where(runs.c.status.in_([s.value for s in flt.statuses]))
    if flt.host:
        query = query.where(runs.c.host == flt.host)
    if flt.since:
        query = query.where(runs.c.created_at >= flt.since)
    if flt.until:
        query = query.where(runs.c.created_at < flt.until)
    if flt.only_jobs is not None or flt.only_rooms is not None:
        query = query.where(
            or_(jobs.c.name.in_(list(flt.only_jobs or ())), _in_room(flt.only_rooms or ()))
        )
    if before:
        at, run_id = before
        query = query.where(
            or_(runs.c.created_at < at, and_(runs.c.created_at == at, runs.c.id < run_id))
        )
    query = query.order_by(runs.c.created_at.desc(), runs.c.id.desc()).limit(limit)
    return [_to_run(row, row.job_name) for row in conn.execute(query)]


def count_events(conn: Connection, run_id: str) -> int:
    query = select(func.count()).select_from(run_events).where(run_events.c.run_id == run_id)
    return int(conn.execute(query).scalar_one())
