"""The hub's files are private: the data directory 0700, the SQLite database 0600.

The database holds HMAC secrets and the link-signing key, so no other local user
may read it. SQLite creates its -wal and -shm files with the database's own mode.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_data_dir(path: Path) -> None:
    """Create the data directory readable by this user only (an existing one is left as is)."""
    if not path.exists():
        path.mkdir(parents=True, mode=DIRECTORY_MODE)
        os.chmod(path, DIRECTORY_MODE)  # whatever the umask


def private_sqlite_file(url: str) -> None:
    """Create the SQLite database file 0600 before SQLite does, or make an existing one 0600."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return
    path = Path(parsed.database)
    if path.name == ":memory:":
        return
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    for kept in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if kept.exists() and kept.stat().st_uid == os.getuid():
            os.chmod(kept, FILE_MODE)
