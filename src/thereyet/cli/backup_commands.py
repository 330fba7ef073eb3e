"""`thereyet backup FILE` and `thereyet restore FILE`, on the hub's database.

Backup is online: run it while the hub serves (it reads one consistent
snapshot). Restore wants a new, empty hub (stopped), and refuses an archive
that is damaged or was made by a newer hub.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .hub_target import settings as _settings
from .server_commands import _database_options


def register(sub: Any) -> None:
    backup = sub.add_parser("backup", help="write a consistent backup of the hub (online)")
    backup.add_argument("file", type=Path)
    _database_options(backup)
    backup.set_defaults(handler=run_backup)
    restore = sub.add_parser("restore", help="restore a backup into a new, empty hub")
    restore.add_argument("file", type=Path)
    _database_options(restore)
    restore.set_defaults(handler=run_restore)


def _engine(args: argparse.Namespace, *, write: bool) -> Any:
    """The reader engine for a backup: on SQLite the writer's BEGIN IMMEDIATE would hold
    the hub's write lock for the whole backup; a reader's snapshot blocks no one."""
    from ..server.store.engine import make_engines

    settings = _settings(args)
    if not settings.db:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engines = make_engines(settings.database_url)
    keep, other = (engines.write, engines.read) if write else (engines.read, engines.write)
    other.dispose()
    return keep


def run_backup(args: argparse.Namespace) -> int:
    from ..server.backup.archive import backup_to_file

    def said(manifest: dict[str, Any], rows: int, seconds: float) -> str:
        return (
            f"backup written to {args.file}: {rows} rows in {len(manifest['tables'])} "
            f"tables, schema {','.join(manifest['revision'])}, {seconds:.1f} s"
        )

    return _run(args, backup_to_file, said, write=False, failed="")


def run_restore(args: argparse.Namespace) -> int:
    from ..server.backup.archive import restore

    def said(_manifest: dict[str, Any], rows: int, seconds: float) -> str:
        return f"restored {rows} rows from {args.file} in {seconds:.1f} s"

    return _run(args, restore, said, write=True, failed="; nothing was restored")


def _run(
    args: argparse.Namespace,
    action: Callable[[Any, Path], dict[str, Any]],
    said: Callable[[dict[str, Any], int, float], str],
    *,
    write: bool,
    failed: str,
) -> int:
    """Run a backup or a restore on the hub's database; say what it did, or why not."""
    from ..server.backup.archive import BackupError

    engine = _engine(args, write=write)
    started = time.monotonic()
    try:
        manifest = action(engine, args.file)
    except BackupError as exc:
        print(f"thereyet: {exc}{failed}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    rows = sum(t["rows"] for t in manifest["tables"])
    print(said(manifest, rows, time.monotonic() - started), file=sys.stderr)
    return 0
