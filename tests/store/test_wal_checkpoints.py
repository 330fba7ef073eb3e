"""SQLite's WAL is checkpointed by the hub's checkpointer thread, not by the writer's commits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from tests.servers import wait_for
from thereyet.server.store.engine import Engines, make_engines
from thereyet.server.store.migrate import upgrade
from thereyet.server.store.tables import rooms
from thereyet.server.store.wal import Checkpointer
from thereyet.server.store.writer import Tx, Writer


def _add_rooms(writer: Writer, prefix: str, count: int) -> None:
    def write(tx: Tx) -> None:
        for n in range(count):
            row = {"name": f"{prefix}-{n}", "title": "x" * 2000, "topic": "", "created_at": tx.now}
            tx.conn.execute(insert(rooms).values(row))

    for _ in range(40):  # enough pages to pass SQLite's automatic checkpoint (1,000)
        writer.run_sync(write)
        prefix += "+"


def _wal_size(db: Path) -> int:
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


@dataclass
class Hub:
    db: Path
    engines: Engines
    writer: Writer


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """A migrated SQLite database whose writer leaves checkpoints to a Checkpointer."""
    db = tmp_path / "hub.db"
    engines = make_engines(f"sqlite:///{db}", sqlite_checkpoints=False)
    upgrade(engines.write)
    writer = Writer(engines.write, lambda: datetime.now(UTC))
    writer.start()
    yield Hub(db, engines, writer)
    writer.stop()
    engines.dispose()


def test_the_writer_leaves_checkpoints_to_the_checkpointer(hub: Hub):
    checkpointer = Checkpointer(hub.engines.read, every=3600)  # only when told, here
    _add_rooms(hub.writer, "a", 60)
    busy, frames, done = checkpointer.checkpoint()
    # Nothing was checkpointed by the commits: the whole WAL was still to copy.
    assert busy == 0 and frames > 1000 and done == frames
    wal = _wal_size(hub.db)
    _add_rooms(hub.writer, "b", 60)  # a checkpointed WAL is written again from its start
    assert _wal_size(hub.db) == wal


def test_the_checkpointer_thread_checkpoints_every_interval(hub: Hub):
    checkpointer = Checkpointer(hub.engines.read, every=0.05)
    _add_rooms(hub.writer, "a", 10)
    before = hub.db.stat().st_size  # what was committed is in the WAL only
    checkpointer.start()
    try:
        # The thread copies it into the database file.
        wait_for(
            lambda: hub.db.stat().st_size > before,
            10,
            what="the checkpointer thread to copy the WAL into the database file",
        )
    finally:
        checkpointer.stop()
