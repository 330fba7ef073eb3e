"""Failed logins per key (a username or a client address), shared by every node."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, case, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..domain.people import Failures
from .tables import login_failures as table


def failures_of(conn: Connection, keys: Iterable[str]) -> dict[str, Failures]:
    rows = conn.execute(select(table).where(table.c.key.in_(list(keys))))
    return {row.key: Failures(row.failures, row.last_failed_at) for row in rows}


def count_failure(conn: Connection, key: str, now: datetime, forget_before: datetime) -> None:
    """One more failure for `key` at `now`; failures last seen before `forget_before` restart
    at one. One UPDATE, so failures counted by two nodes at once both count."""
    counted = conn.execute(
        update(table)
        .where(table.c.key == key)
        .values(
            failures=case((table.c.last_failed_at < forget_before, 1), else_=table.c.failures + 1),
            last_failed_at=now,
        )
    ).rowcount
    if counted:
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(key=key, failures=1, last_failed_at=now))
    except IntegrityError:  # another node inserted it first: count on its row
        count_failure(conn, key, now, forget_before)


def take_back(conn: Connection, key: str) -> None:
    """Take one failure back (an attempt counted before its password was checked was right)."""
    conn.execute(
        update(table)
        .where(table.c.key == key, table.c.failures > 0)
        .values(failures=table.c.failures - 1)
    )


def clear(conn: Connection, key: str) -> None:
    conn.execute(delete(table).where(table.c.key == key))


def forget_before(conn: Connection, before: datetime) -> None:
    """Forget keys whose last failure is older than `before`."""
    conn.execute(delete(table).where(table.c.last_failed_at < before))
