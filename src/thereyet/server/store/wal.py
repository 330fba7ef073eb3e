"""SQLite's WAL checkpoints, made off the writer's path.

By default the connection whose commit finds the WAL over 1,000 pages copies
it into the database file, with its fsyncs, inside that commit: on the hub that
is the single writer, so every group waiting behind it waited for the copy too.
The hub's writer connection is opened without those checkpoints
(store.engine.make_engines(sqlite_checkpoints=False)), and this thread makes a
PASSIVE checkpoint every second instead: it copies what no reader still needs,
never waits for the writer or readers, and leaves the writer's commits as they
were (WAL, synchronous FULL), so nothing acknowledged is less durable.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from sqlalchemy import Engine

log = logging.getLogger(__name__)


class Checkpointer:
    def __init__(self, engine: Engine, every: float = 1.0) -> None:
        self._engine = engine
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="thereyet-wal", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop, after one last checkpoint."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, WAL frames, frames checkpointed), SQLite's answer."""
        raw = self._engine.raw_connection()  # autocommit: a checkpoint runs outside a transaction
        try:
            cursor = raw.cursor()
            busy, frames, done = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            cursor.close()
            return int(busy), int(frames), int(done)
        finally:
            raw.close()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            with contextlib.suppress(Exception):
                self.checkpoint()
        try:
            self.checkpoint()
        except Exception:
            log.exception("the last WAL checkpoint failed; the next start makes it")
