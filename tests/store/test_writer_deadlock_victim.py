"""Two writers (two hub nodes) on one PostgreSQL database change the same two rows in
opposite orders: PostgreSQL aborts one of them as a deadlock's victim, and its writer
rolls the victim's whole group back and makes it again. Every caller gets its answer,
none an error, and every change is made exactly once: whether the change was made
alone or together with its neighbours by a batch handler."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from thereyet.server.store.writer import Tx, Writer

pytestmark = pytest.mark.postgres
BUMP = text("UPDATE deadlock_probe SET n = n + 1 WHERE id = :id")


@pytest.fixture
def probe(pg_database: str) -> Iterator[Engine]:
    """Two rows, (1, 0) and (2, 0), to bump."""
    engine = create_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS deadlock_probe"))
        conn.execute(text("CREATE TABLE deadlock_probe (id int PRIMARY KEY, n int)"))
        conn.execute(text("INSERT INTO deadlock_probe VALUES (1, 0), (2, 0)"))
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE deadlock_probe"))
    engine.dispose()


def _counts(engine: Engine) -> dict[int, int]:
    with engine.connect() as conn:
        return dict(
            (row.id, row.n) for row in conn.execute(text("SELECT id, n FROM deadlock_probe"))
        )


def _bump_both(tx: Tx, first: int, second: int, meet: threading.Barrier) -> None:
    tx.conn.execute(BUMP, {"id": first})
    if not meet.broken:
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait()  # the first time: the other writer holds its first row now
        meet.abort()  # made again, nobody waits any more
    tx.conn.execute(BUMP, {"id": second})


def test_a_change_chosen_as_a_deadlock_victim_is_made_again(
    probe: Engine, caplog: pytest.LogCaptureFixture
):
    writers = [Writer(probe, lambda: datetime.now(UTC), name=f"w{i}") for i in (1, 2)]
    meet = threading.Barrier(2, timeout=10)

    def change(first: int, second: int) -> Callable[[Tx], int]:
        def fn(tx: Tx) -> int:
            _bump_both(tx, first, second, meet)
            return first

        return fn

    futures = [writers[0].submit(change(1, 2)), writers[1].submit(change(2, 1))]
    try:
        for writer in writers:
            writer.start()
        assert sorted(f.result(30) for f in futures) == [1, 2]
    finally:
        for writer in writers:
            writer.stop()
    assert _counts(probe) == {1: 2, 2: 2}  # each change made exactly once
    assert "deadlock" in caplog.text.lower()  # there was one to survive


def test_a_batch_chosen_as_a_deadlock_victim_is_made_again_with_its_group(
    probe: Engine, caplog: pytest.LogCaptureFixture
):
    writers = [Writer(probe, lambda: datetime.now(UTC), name=f"w{i}") for i in (1, 2)]
    meet = threading.Barrier(2, timeout=10)

    def handler(first: int, second: int) -> Callable[[Tx, list[Any]], list[Any]]:
        def together(tx: Tx, items: list[Any]) -> list[Any]:
            _bump_both(tx, first, second, meet)
            return items

        return together

    def never_alone(tx: Tx) -> None:
        raise AssertionError("a deadlocked batch is made again whole, not one by one")

    async def hand_in(writer: Writer, first: int, second: int) -> list[Any]:
        made = handler(first, second)
        calls = [writer.run_batched(made, f"{first}-{i}", never_alone) for i in range(3)]
        return list(await asyncio.gather(*calls))

    results: dict[int, Any] = {}

    def client(index: int, first: int, second: int) -> None:
        async def main() -> list[Any]:
            task = asyncio.ensure_future(hand_in(writers[index], first, second))
            await asyncio.sleep(0.2)  # all three handed in before the writer starts
            writers[index].start()
            return await task

        results[index] = asyncio.run(main())

    threads = [
        threading.Thread(target=client, args=(0, 1, 2)),
        threading.Thread(target=client, args=(1, 2, 1)),
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        for writer in writers:
            writer.stop()
    assert results == {0: ["1-0", "1-1", "1-2"], 1: ["2-0", "2-1", "2-2"]}
    assert _counts(probe) == {1: 2, 2: 2}  # each batch made exactly once
    assert "deadlock" in caplog.text.lower()
    assert "made one by one" not in caplog.text
