"""Two writers (two hub nodes) on one PostgreSQL database change the same two rows in
opposite orders: PostgreSQL aborts one change as a deadlock's victim, and its writer
makes it again; both callers get their answer, neither an error."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from thereyet.server.store.writer import Tx, Writer

pytestmark = pytest.mark.postgres
BUMP = text("UPDATE deadlock_probe SET n = n + 1 WHERE id = :id")


def test_a_change_chosen_as_a_deadlock_victim_is_made_again(
    pg_database: str, caplog: pytest.LogCaptureFixture
):
    engine = create_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS deadlock_probe"))
        conn.execute(text("CREATE TABLE deadlock_probe (id int PRIMARY KEY, n int)"))
        conn.execute(text("INSERT INTO deadlock_probe VALUES (1, 0), (2, 0)"))
    writers = [Writer(engine, lambda: datetime.now(UTC), name=f"w{i}") for i in (1, 2)]
    for writer in writers:
        writer.start()

    def change(first: int, second: int) -> Callable[[Tx], int]:
        def fn(tx: Tx) -> int:
            tx.conn.execute(BUMP, {"id": first})
            time.sleep(0.5)  # the other writer takes its first row meanwhile
            tx.conn.execute(BUMP, {"id": second})
            return first

        return fn

    try:
        futures = [writers[0].submit(change(1, 2)), writers[1].submit(change(2, 1))]
        assert sorted(f.result(30) for f in futures) == [1, 2]
    finally:
        for writer in writers:
            writer.stop()
    with engine.connect() as conn:
        counts = dict(conn.execute(text("SELECT id, n FROM deadlock_probe")).all())
        conn.execute(text("DROP TABLE deadlock_probe"))
        conn.commit()
    engine.dispose()
    assert counts == {1: 2, 2: 2}  # each change made exactly once
    assert "deadlock" in caplog.text.lower()  # there was one to survive
