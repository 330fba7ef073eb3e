"""SQLite is one node: a second `thereyet server` on the same SQLite file is refused.

Two hubs on one SQLite file would each run the workers (scheduler, escalator...) and
keep live views that never see the other's writes; several nodes need PostgreSQL
(docs/scale-out.md). The server holds an exclusive lock on a file next to the
database while it runs; the operating system releases it when the process ends,
however it ends (kill -9 included), so a stale lock never blocks a restart.
Commands such as `thereyet token create` do not take it: they may run beside a hub.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url


class AlreadyServed(RuntimeError):
    """Another hub process serves this SQLite database."""


def hold_sqlite_database(url: str) -> IO[str] | None:
    """For a SQLite database file, take the lock that says a hub serves it, and return
    the open lock file (keep it open while serving). None for other databases.
    Raise AlreadyServed, naming the other process, if one holds the lock."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = Path(f"{parsed.database}.hub-lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise AlreadyServed(
            f"another hub (pid {holder}) already serves the SQLite database {parsed.database}. "
            "SQLite is for a single node; to run several nodes, use PostgreSQL "
            "(see docs/scale-out.md)"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
