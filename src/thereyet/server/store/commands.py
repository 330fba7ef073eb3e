"""Command executions: who ran what, where, with which arguments, and how it went."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from .tables import command_runs, rooms

MAX_OUTPUT_CHARS = 64 * 1024  # the record keeps the tail; the full output is an attachment


def insert_run(conn: Connection, **values: Any) -> int:
    values.setdefault("output", "")
    values.setdefault("gate", {})
    key = conn.execute(insert(command_runs).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _with_room() -> Any:
    return select(command_runs, rooms.c.name.label("room")).join(
        rooms, rooms.c.id == command_runs.c.room_id
    )


def get_run(conn: Connection, run_id: int) -> Any:
    return conn.execute(_with_room().where(command_runs.c.id == run_id)).first()


def waiting_by_code(conn: Connection, room_id: int, code: str) -> Any:
    query = _with_room().where(
        command_runs.c.room_id == room_id,
        command_runs.c.code == code,
        command_runs.c.status == "waiting",
    )
    return conn.execute(query).first()


def update_run(conn: Connection, run_id: int, *, expect: str | None = None, **values: Any) -> bool:
    """Change a record; with `expect`, only while its status is still that (one winner)."""
    query = update(command_runs).where(command_runs.c.id == run_id)
    if expect is not None:
        query = query.where(command_runs.c.status == expect)
    return conn.execute(query.values(**values)).rowcount == 1


def append_output(conn: Connection, run_id: int, text: str) -> None:
    row = conn.execute(select(command_runs.c.output).where(command_runs.c.id == run_id)).first()
    if row is None:
        return
    kept = (row.output + text)[-MAX_OUTPUT_CHARS:]
    conn.execute(update(command_runs).where(command_runs.c.id == run_id).values(output=kept))


def list_runs(conn: Connection, *, room_id: int | None, limit: int) -> list[Any]:
    query = _with_room().order_by(command_runs.c.id.desc()).limit(limit)
    if room_id is not None:
        query = query.where(command_runs.c.room_id == room_id)
    return list(conn.execute(query))
