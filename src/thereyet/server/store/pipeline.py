"""Statements sent together: psycopg's pipeline mode, for PostgreSQL's round trips.

Each statement on PostgreSQL is a round trip, and under load a round trip costs
more than the statement: the writer waits for the server to be scheduled. In a
pipeline, statements whose answers nobody reads at once (inserts, updates,
savepoints) are sent without waiting, and go with the next one that is read, or
with the pipeline's end: one round trip for all of them.

Only the driver's own cursors may be used inside (SQLAlchemy reads a result's
columns at once, before the pipeline has fetched them). Errors are SQLAlchemy's,
as from any other statement: the writer tells a lost connection or a deadlock by
them. On SQLite there is nothing to save: the statements run one by one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


@contextlib.contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """Send the statements made inside on `conn`'s driver cursors together, on PostgreSQL;
    the last of them is answered (and any error raised) by the end of the block."""
    if conn.dialect.name != "postgresql":
        yield
        return
    import psycopg  # here: a SQLite hub runs without the PostgreSQL driver installed

    raw: Any = conn.connection.driver_connection
    try:
        with raw.pipeline():
            yield
    except psycopg.Error as exc:
        broken = bool(raw.broken)
        if broken:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            None, None, exc, psycopg.Error, connection_invalidated=broken
        ) from exc


def execute(conn: Connection, statement: str, params: Any = None) -> None:
    """Run `statement` on the driver's own cursor, reading nothing back (so that in a
    pipeline it waits for nothing)."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(statement, params)
    finally:
        cursor.close()


def fetch(conn: Connection, statement: str, params: Any = None) -> list[Any]:
    """Run `statement` on the driver's own cursor and return its rows."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(statement, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()
