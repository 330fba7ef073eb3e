"""SQLite's WAL checkpoints, made off the writer's path.

By default the connection whose commit finds the WAL over 1,000 pages copies
it into the database file, with its fsyncs, inside that commit: on the hub that
is the single writer, so every group waiting behind it waited for the copy too.
The hub's writer connection is opened without those checkpoints
(store.engine.make_engines(sqlite_checkpoints=False)), and this thread makes a
PASSIVE checkpoint every second instead: it copies what no reader still needs,
never waits for the writer or readers, and leaves the durability of the writer's
commits as it was (see WalSync below).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

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


class WalSync:
    """The writer's commits made durable apart from them, before anyone is answered.

    With synchronous FULL, SQLite fsyncs the WAL inside every commit, and the single
    writer waits for the disk before it can begin the next group: on this project's
    2-core test machine that wait was close to half of a group's time under a burst of
    pings. The hub's writer connection commits with synchronous NORMAL instead (the
    WAL is written, not yet synced), hands the group's answers here, and goes on with
    the next group; this thread fsyncs the WAL file (once for every group committed
    since its last fsync) and only then answers their callers. So a caller is still
    told of its change only once it would survive a power loss, as with FULL; what a
    power loss can take is only what nobody was told of yet. If the fsync fails, the
    callers waiting on it are answered with the error (their changes may be lost), as
    PostgreSQL treats a failed fsync.
    """

    def __init__(self, database: Path, *, before_sync: Callable[[], None] | None = None) -> None:
        self._wal = Path(f"{database}-wal")
        self._fd: int | None = None
        self._inode: int | None = None
        self._pending: list[Callable[[BaseException | None], None]] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._before_sync = before_sync  # where a test holds or fails the fsync
        self._thread = threading.Thread(target=self._loop, name="thereyet-wal-sync", daemon=True)
        self.syncs = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Answer what was handed in (after one last fsync), then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(10)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def then(self, answer: Callable[[BaseException | None], None]) -> None:
        """Call `answer(None)` once what is committed now is on disk (or with the error)."""
        with self._cond:
            if self._thread.is_alive() or not self._stopping:
                self._pending.append(answer)
                self._cond.notify()
                return
        self._answer([answer])  # stopped: made durable here, at once

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if not self._pending:
                    return
                answers, self._pending = self._pending, []
            self._answer(answers)

    def _answer(self, answers: list[Callable[[BaseException | None], None]]) -> None:
        """fsync, then tell each of `answers` (with the error, if the fsync failed)."""
        error: BaseException | None = None
        try:
            if self._before_sync is not None:
                self._before_sync()
            self._sync()
        except OSError as exc:
            log.critical("fsync of the WAL failed; its changes may not be durable: %s", exc)
            error = exc
        for answer in answers:
            try:
                answer(error)
            except Exception:
                log.exception("answering after the WAL's fsync failed")

    def _sync(self) -> None:
        """fsync the WAL file (opened again if SQLite made a new one since)."""
        inode = os.stat(self._wal).st_ino
        if self._fd is None or inode != self._inode:
            if self._fd is not None:
                os.close(self._fd)
            self._fd = os.open(self._wal, os.O_RDONLY)
            self._inode = inode
            # A new file's name must be on disk too: its directory is synced once.
            directory = os.open(self._wal.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        os.fsync(self._fd)
        self.syncs += 1
