"""SQLite's WAL synced apart from the writer's commits: nobody is answered before it."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from thereyet.server.clock import FakeClock
from thereyet.server.config import Settings
from thereyet.server.hub import Hub
from thereyet.server.store.engine import make_engines
from thereyet.server.store.migrate import upgrade
from thereyet.server.store.tables import rooms
from thereyet.server.store.wal import WalSync
from thereyet.server.store.writer import Tx, Writer


def add_room(name: str):
    def write(tx: Tx) -> str:
        tx.conn.execute(insert(rooms).values(name=name, title=name, topic="", created_at=tx.now))
        return name

    return write


class Gate:
    """Holds each fsync until the test lets it through (or makes it fail)."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.go = threading.Event()
        self.error: OSError | None = None

    def __call__(self) -> None:
        self.reached.set()
        assert self.go.wait(10), "the test never let the fsync through"
        if self.error is not None:
            raise self.error


@pytest.fixture
def parts(tmp_path: Path, clock: FakeClock):
    database = tmp_path / "hub.db"
    engines = make_engines(f"sqlite:///{database}", sqlite_synchronous="NORMAL")
    upgrade(engines.write)
    gate = Gate()
    sync = WalSync(database, before_sync=gate)
    sync.start()
    writer = Writer(engines.write, clock.now, durable=sync)
    writer.start()
    yield engines, writer, sync, gate
    gate.go.set()
    writer.stop()
    sync.stop()
    engines.dispose()


def names(engines) -> list[str]:
    with engines.read.connect() as conn:
        return sorted(conn.execute(select(rooms.c.name)).scalars())


def test_a_caller_is_answered_only_once_the_wal_is_synced(parts):
    engines, writer, sync, gate = parts
    syncs = sync.syncs
    answer: Future[str] = writer.submit(add_room("ops"))
    assert gate.reached.wait(10)
    # Committed (a reader sees it) but not yet on disk: nobody is told.
    assert names(engines) == ["ops"]
    assert not answer.done()
    gate.go.set()
    assert answer.result(10) == "ops"
    assert sync.syncs == syncs + 1


def test_event_loop_callers_wait_for_the_sync_too(parts):
    engines, writer, _sync, gate = parts

    async def main() -> list[str]:
        tasks = [asyncio.create_task(writer.run(add_room(n))) for n in ("a", "b")]
        await asyncio.to_thread(gate.reached.wait, 10)
        await asyncio.sleep(0.05)  # would the answers come without the fsync?
        assert not any(task.done() for task in tasks)
        gate.go.set()
        return list(await asyncio.gather(*tasks))

    assert asyncio.run(main()) == ["a", "b"]
    assert names(engines) == ["a", "b"]


def test_groups_committed_during_one_fsync_share_the_next(parts):
    """The writer goes on while the WAL is synced; what it commits meanwhile is synced
    once, together."""
    engines, writer, sync, gate = parts
    first = writer.submit(add_room("first"))
    assert gate.reached.wait(10)
    syncs = sync.syncs
    later = [writer.submit(add_room(f"later-{n}")) for n in range(5)]
    deadline = time.monotonic() + 10
    while writer.jobs_done < 6:  # committed, still unanswered
        assert time.monotonic() < deadline, "the writer did not go on during the fsync"
        time.sleep(0.01)
    assert len(names(engines)) == 6 and not any(f.done() for f in [first, *later])
    gate.go.set()
    assert [f.result(10) for f in later] == [f"later-{n}" for n in range(5)]
    assert first.result(10) == "first"
    assert sync.syncs == syncs + 2  # the held one, then one for the five groups after it


def test_a_failed_fsync_answers_its_callers_with_the_error(parts):
    _engines, writer, _sync, gate = parts
    gate.error = OSError(5, "Input/output error")
    answer = writer.submit(add_room("lost"))
    gate.go.set()
    with pytest.raises(OSError, match="Input/output error"):
        answer.result(10)


def _writer_synchronous(hub: Hub) -> int:
    return int(
        hub.writer.run_sync(lambda tx: tx.conn.exec_driver_sql("PRAGMA synchronous").scalar())
    )


@pytest.mark.parametrize(("apart", "pragma"), [(True, 1), (False, 2)])
def test_the_hub_syncs_apart_unless_told_not_to(tmp_path: Path, apart: bool, pragma: int):
    """With FULL (the default) the hub's writer commits with NORMAL and WalSync makes its
    groups durable; with sqlite_sync_apart off, SQLite's own FULL does it in the commit."""
    settings = Settings(data_dir=tmp_path, sqlite_sync_apart=apart)
    hub = Hub.open(settings, FakeClock())
    try:
        assert (hub.wal_sync is not None) is apart
        assert _writer_synchronous(hub) == pragma  # 1 NORMAL, 2 FULL
        if hub.wal_sync is not None:
            before = hub.wal_sync.syncs
            hub.writer.run_sync(add_room("ops"))
            assert hub.wal_sync.syncs > before
    finally:
        hub.close()


def test_after_it_stopped_a_change_is_synced_at_once(tmp_path: Path, clock: FakeClock):
    """Work a writer still hands in after the syncer stopped is not left unanswered."""
    database = tmp_path / "hub.db"
    engines = make_engines(f"sqlite:///{database}", sqlite_synchronous="NORMAL")
    upgrade(engines.write)
    sync = WalSync(database)
    sync.start()
    sync.stop()
    writer = Writer(engines.write, clock.now, durable=sync)
    writer.start()
    try:
        assert writer.submit(add_room("late")).result(10) == "late"
        assert sync.syncs == 1
    finally:
        writer.stop()
        engines.dispose()
