"""Two hub nodes' writers whose groups deadlock on PostgreSQL: each group is rolled back
and made again, so no change is answered with the deadlock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from thereyet.server.store.engine import make_engines
from thereyet.server.store.migrate import upgrade
from thereyet.server.store.tables import rooms
from thereyet.server.store.writer import Tx, Writer

pytestmark = pytest.mark.postgres


def _deadlocks(engine) -> int:
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        query = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        return int(conn.execute(text(query)).scalar_one())


def test_groups_of_two_writers_that_deadlock_are_made_again_and_all_succeed(pg_database):
    one, two = make_engines(pg_database), make_engines(pg_database)
    upgrade(one.write)
    with one.write.begin() as conn:
        conn.execute(rooms.delete().where(rooms.c.name.in_(["left", "right"])))
    both_hold_one = threading.Barrier(2, timeout=10)
    first_time = {"one": True, "two": True}

    def add_room(name: str, then_wait_for: str | None = None):
        def write(tx: Tx) -> str:
            row = {"name": name, "title": name, "topic": "", "created_at": tx.now}
            tx.conn.execute(insert(rooms).values(row).on_conflict_do_nothing())
            if then_wait_for and first_time[then_wait_for]:
                # Each group has inserted its first room: each now wants the other's.
                first_time[then_wait_for] = False
                both_hold_one.wait()
            return name

        return write

    writers = [Writer(e.write, lambda: datetime.now(UTC)) for e in (one, two)]
    before = _deadlocks(one.write)
    # Queued before the writers start, so each takes its two changes as one group.
    answers = [
        writers[0].submit(add_room("left", "one")),
        writers[0].submit(add_room("right")),
        writers[1].submit(add_room("right", "two")),
        writers[1].submit(add_room("left")),
    ]
    try:
        for writer in writers:
            writer.start()
        assert [a.result(30) for a in answers] == ["left", "right", "right", "left"]
    finally:
        for writer in writers:
            writer.stop()
    with one.read.connect() as conn:
        names = conn.execute(select(rooms.c.name).where(rooms.c.name.in_(["left", "right"])))
        assert sorted(names.scalars()) == ["left", "right"]
    deadline = time.monotonic() + 5  # statistics reach the view a moment later
    while _deadlocks(one.write) == before:
        assert time.monotonic() < deadline, "PostgreSQL saw no deadlock: the test proves nothing"
        time.sleep(0.1)
    one.dispose()
    two.dispose()
