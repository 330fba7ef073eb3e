"""Statements sent together: psycopg's pipeline mode, for PostgreSQL's round trips.

Each statement on PostgreSQL is a round trip, and under load a round trip costs
more than the statement: the writer waits for the server to be scheduled. In a
pipeline, statements whose answers nobody reads at once (inserts, updates,
savepoints) are sent without waiting, and go with the next one that is read, or
with the pipeline's end: one round trip for all of them.

The writer's connection goes further (`queue_on`): its driver does not begin
transactions on its own, and the writer's BEGIN, savepoints and a change's
writes made in a `held` block wait in a queue on the connection. They go ahead
of the next statement, in its round trip when it is the driver's own (in
`pipelined` or `fetch`), in one round trip of their own before one of
SQLAlchemy's, and with the COMMIT (`commit`). So a group of pings waits for
two round trips: its BEGIN with the checks it reads, and its writes with the
COMMIT. A held write that fails is only known at a later statement, perhaps
another change's: `held_failed` then tells the writer to make the group again
without holding writes (`queue_on(..., hold=False)`), where each write is
answered by the end of its own block.

A statement whose best plan depends on how many rows a table holds is marked
`planned_afresh`: never prepared. psycopg prepares a statement on its fifth use,
and PostgreSQL keeps the plan it made then; one made while a table was small
(a new hub's first minutes) goes on reading the whole table, however it grows,
until the table is next analyzed.

Only the driver's own cursors may be used inside a pipeline (SQLAlchemy reads a
result's columns at once, before the pipeline has fetched them), and on the
writer's connection only through this module (`cursor`), so that nothing runs
before the queued BEGIN. Errors are SQLAlchemy's, as from any other statement:
the writer tells a lost connection or a deadlock by them. On SQLite there is
nothing to save: `pipelined` and `held` only run what is made inside, and `commit`
does nothing (the caller's transaction commits). The rest (`later`, `execute`,
`executemany`, `fetch`, `fetch_each`) speaks psycopg, with its `prepare` and its `%s`
marks, and is for PostgreSQL only; on SQLite, callers use `cursor`.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.exc import DBAPIError

_AFRESH: set[str] = set()  # the statements marked planned_afresh


def planned_afresh(statement: str) -> str:
    """Mark `statement` as one to plan afresh each time it runs (never prepared); return it."""
    _AFRESH.add(statement)
    return statement


def _prepare(statement: str) -> bool | None:
    """psycopg's `prepare`: False for a statement planned afresh, else its default."""
    return False if statement in _AFRESH else None


@dataclass
class _Queue:
    """What waits to be sent on a writer's connection, in order: (statement,
    parameters, whether the parameters are many rows)."""

    hold: bool  # writes made in held() blocks wait (else they go at the block's end)
    items: list[tuple[str, Any, bool]] = field(default_factory=list)
    holding: int = 0  # inside held()
    piped: int = 0  # inside pipelined(): statements go straight into its pipeline
    earlier_writes: bool = False  # items hold writes of a held() block that has ended
    failed: bool = False  # sending such writes failed: the group is to be made again


_queues: weakref.WeakKeyDictionary[Connection, _Queue] = weakref.WeakKeyDictionary()


def queue_on(conn: Connection, *, hold: bool = True) -> bool:
    """PostgreSQL: from now on `conn` sends what `later` queues ahead of its next
    statement, and its driver begins no transaction of its own (AUTOCOMMIT: the
    caller queues its BEGIN); `hold`: writes in held() blocks wait too. Anything
    queued before is dropped. False (and nothing done) on another database."""
    if conn.dialect.name != "postgresql":
        return False
    if conn not in _queues:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        event.listen(conn, "before_cursor_execute", _flush)
    _queues[conn] = _Queue(hold=hold)
    return True


def held_failed(conn: Connection) -> bool:
    """A held write failed when it was sent (with a later statement): the writer must
    roll the group back and make it again without holding writes."""
    queue = _queues.get(conn)
    return queue is not None and queue.failed


def later(conn: Connection, *statements: str) -> None:
    """Send `statements` (no parameters, nothing read back) ahead of the connection's
    next one, if it queues (queue_on); else now."""
    queue = _queues.get(conn)
    if queue is None or queue.piped:
        for statement in statements:
            execute(conn, statement)
        return
    queue.items += [(statement, None, False) for statement in statements]


def commit(conn: Connection) -> None:
    """Send what is queued with a COMMIT, in one round trip; with nothing ever sent
    (the group's BEGIN is still queued), there is nothing to commit. On a
    connection that does not queue, the caller's transaction commits as usual."""
    queue = _queues.get(conn)
    if queue is None:
        return
    if queue.items[:1] == [("BEGIN", None, False)] and not queue.earlier_writes:
        queue.items.clear()  # nothing was done: the transaction never began
        return
    queue.items.append(("COMMIT", None, False))
    with pipelined(conn):
        pass


@contextlib.contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """Send the statements made inside on `conn`'s driver cursors together, on PostgreSQL,
    after what the connection has queued; the last of them is answered (and any error
    raised) by the end of the block."""
    if conn.dialect.name != "postgresql":
        yield
        return
    import psycopg  # here: a SQLite hub runs without the PostgreSQL driver installed

    raw: Any = conn.connection.driver_connection
    queue = _queues.get(conn)
    queued, earlier = (queue.items, queue.earlier_writes) if queue else ([], False)
    if queue is not None:
        queue.items, queue.earlier_writes = [], False
        queue.piped += 1
    try:
        with raw.pipeline():
            with contextlib.closing(raw.cursor()) as raw_cursor:
                _send(raw_cursor, queued)
            yield
    except psycopg.Error as exc:
        if earlier and queue is not None:
            queue.failed = True
        broken = bool(raw.broken)
        if broken:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            None, None, exc, psycopg.Error, connection_invalidated=broken
        ) from exc
    finally:
        if queue is not None:
            queue.piped -= 1


@contextlib.contextmanager
def held(conn: Connection) -> Iterator[None]:
    """As pipelined(), but on a connection that holds writes (queue_on) the writes made
    inside (`execute`, `executemany`) wait past the block, for the next statement or
    the COMMIT. Nothing made inside may depend on their outcome."""
    queue = _queues.get(conn)
    if queue is None or not queue.hold or queue.piped:
        with pipelined(conn):
            yield
        return
    queue.holding += 1
    try:
        yield
    finally:
        queue.holding -= 1
        queue.earlier_writes = queue.earlier_writes or bool(queue.items)


def _flush(conn: Connection, *_: Any) -> None:
    """Send what the connection has queued, in a round trip of its own: before a
    statement of SQLAlchemy's (an event hook) or one on a driver cursor outside a
    pipeline (inside one, it went with the pipeline)."""
    queue = _queues.get(conn)
    if queue is not None and queue.items and not queue.piped:
        with pipelined(conn):
            pass


def _send(raw_cursor: Any, items: Sequence[tuple[str, Any, bool]]) -> None:
    for statement, params, many in items:
        if many:
            raw_cursor.executemany(statement, params)
        else:
            raw_cursor.execute(statement, params, prepare=_prepare(statement))


def execute(conn: Connection, statement: str, params: Any = None) -> None:
    """Run `statement` on the driver's own cursor, reading nothing back (so that in a
    pipeline it waits for nothing; in a held block it waits for the next statement)."""
    _write(conn, statement, params, many=False)


def executemany(conn: Connection, statement: str, rows: Sequence[Any]) -> None:
    """Run `statement` for each of `rows` on the driver's own cursor (as execute)."""
    _write(conn, statement, rows, many=True)


def _write(conn: Connection, statement: str, params: Any, *, many: bool) -> None:
    queue = _queues.get(conn)
    if queue is not None and queue.holding and not queue.piped:
        queue.items.append((statement, params, many))
        return
    with contextlib.closing(cursor(conn)) as raw_cursor:
        _send(raw_cursor, [(statement, params, many)])


def fetch(conn: Connection, statement: str, params: Any = None) -> list[Any]:
    """Run `statement` on the driver's own cursor and return its rows (as fetch_each)."""
    return fetch_each(conn, [(statement, params)])[0]


def fetch_each(conn: Connection, statements: Sequence[tuple[str, Any]]) -> list[list[Any]]:
    """Run each (statement, parameters) on a driver cursor of its own and return each
    one's rows: on PostgreSQL all in one round trip, with what waits before them."""
    cursors: list[Any] = [conn.connection.cursor() for _ in statements]  # psycopg's
    try:
        with pipelined(conn):
            for raw_cursor, (statement, params) in zip(cursors, statements, strict=True):
                raw_cursor.execute(statement, params, prepare=_prepare(statement))
        # Read once the pipeline's end (a Sync) has brought every answer: reading inside
        # would wait once for them and once more for the Sync.
        return [list(raw_cursor.fetchall()) for raw_cursor in cursors]
    finally:
        for raw_cursor in cursors:
            raw_cursor.close()


def cursor(conn: Connection) -> Any:
    """The driver's own cursor on `conn`, once what the connection has queued is sent
    (inside pipelined() it was sent with the pipeline)."""
    _flush(conn)
    return conn.connection.cursor()
