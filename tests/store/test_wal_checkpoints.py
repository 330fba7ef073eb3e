"""SQLite's WAL is checkpointed by the hub's checkpointer thread, not by the writer's commits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from tests.servers import wait_for
from thereyet.server.store.engine import make_engines
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


def test_the_writer_leaves_checkpoints_to_the_checkpointer(tmp_path: Path):
    db = tmp_path / "hub.db"
    engines = make_engines(f"sqlite:///{db}", sqlite_checkpoints=False)
    upgrade(engines.write)
    writer = Writer(engines.write, lambda: datetime.now(UTC))
    writer.start()
    checkpointer = Checkpointer(engines.read, every=3600)  # only when told, here
    try:
        _add_rooms(writer, "a", 60)
        busy, frames, done = checkpointer.checkpoint()
        # Nothing was checkpointed by the commits: the whole WAL was still to copy.
        assert busy == 0 and frames > 1000 and done == frames
        wal = _wal_size(db)
        _add_rooms(writer, "b", 60)  # a checkpointed WAL is written again from its start
        assert _wal_size(db) == wal
    finally:
        writer.stop()
        checkpointer.stop()
        engines.dispose()


def test_the_checkpointer_thread_checkpoints_every_interval(tmp_path: Path):
    db = tmp_path / "hub.db"
    engines = make_engines(f"sqlite:///{db}", sqlite_checkpoints=False)
    upgrade(engines.write)
    writer = Writer(engines.write, lambda: datetime.now(UTC))
    writer.start()
    checkpointer = Checkpointer(engines.read, every=0.05)
    try:
        _add_rooms(writer, "a", 10)
        before = db.stat().st_size  # what was committed is in the WAL only
        checkpointer.start()
        # The thread copies it into the database file.
        wait_for(
            lambda: db.stat().st_size > before,
            10,
            what="the checkpointer thread to copy the WAL into the database file",
        )
    finally:
        writer.stop()
        checkpointer.stop()
        engines.dispose()
