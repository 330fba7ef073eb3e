"""Where the hub-side commands (`thereyet token`, `thereyet user`) act.

Either the hub's own database, found exactly as `thereyet server` finds it
(`--db`/`THEREYET_DB`, else `thereyet.db` in `--data-dir`/`THEREYET_DATA_DIR`,
else the default data directory), or a running hub over its API (`--url` with
an admin token). A database that does not exist yet is never created silently:
a token written there would belong to no hub.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..client.transport import HubError, Transport


class CommandError(Exception):
    """A command cannot go on; `main` prints the message and exits with `code`."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def add_hub_options(parser: argparse.ArgumentParser) -> None:
    """The options that say which hub a hub-side command acts on."""
    where = parser.add_argument_group(
        "which hub",
        "the hub's database, found as `thereyet server` finds it, or a running hub over its API",
    )
    where.add_argument(
        "--db", help="database URL (default: $THEREYET_DB, else SQLite in the data directory)"
    )
    where.add_argument(
        "--data-dir",
        type=Path,
        help="data directory (default: $THEREYET_DATA_DIR, else ~/.local/share/thereyet)",
    )
    where.add_argument(
        "--init",
        action="store_true",
        help="create the database if it does not exist yet (e.g. to make tokens before the first start)",
    )
    where.add_argument(
        "--url", help="act on a running hub over its API instead (e.g. http://127.0.0.1:8480)"
    )
    where.add_argument(
        "--token",
        help="an admin token for --url (default: $THEREYET_ADMIN_TOKEN, else $THEREYET_TOKEN)",
    )


def settings(args: argparse.Namespace) -> Any:
    """The hub's Settings: environment first, then the command's flags."""
    from ..server.config import settings_from_env

    return settings_from_env().with_overrides(
        db=getattr(args, "db", None),
        data_dir=getattr(args, "data_dir", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        demo=getattr(args, "demo", None),
        backup_every=getattr(args, "backup_every", None),
        backup_keep=getattr(args, "backup_keep", None),
    )


def open_hub(args: argparse.Namespace) -> Any:
    """Open the hub's existing database (or a new one with --init); the caller closes it."""
    from ..server.clock import SystemClock
    from ..server.hub import Hub

    found = settings(args)
    if not args.init:
        missing = _missing_database(found)
        if missing:
            raise CommandError(missing)
    return Hub.open(found, SystemClock())


def _missing_database(found: Any) -> str | None:
    """Why the hub's database is not there, or None if it is."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url

    url = make_url(found.database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:" or Path(url.database).exists():
            return None
        where = f"no hub database at {url.database}"
    else:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                if inspect(conn).has_table("alembic_version"):
                    return None
        except Exception as exc:
            raise CommandError(f"cannot reach the hub's database: {exc}", 1) from exc
        finally:
            engine.dispose()
        where = f"the database at {url.render_as_string()} has no hub in it"
    return (
        f"{where}.\n"
        "  Point at the hub's data as for `thereyet server`: --data-dir DIR or --db URL\n"
        "  (or THEREYET_DATA_DIR / THEREYET_DB; scripts/serve keeps its data in .data),\n"
        "  talk to a running hub with --url URL --token ADMIN_TOKEN,\n"
        "  or pass --init to create a new database there."
    )


def api(args: argparse.Namespace) -> Transport | None:
    """A transport to the running hub named by --url, or None to use the database."""
    if not args.url:
        return None
    token = args.token or os.environ.get("THEREYET_ADMIN_TOKEN") or os.environ.get("THEREYET_TOKEN")
    if not token:
        raise CommandError("--url needs an admin token: --token, or THEREYET_ADMIN_TOKEN")
    try:
        return Transport(args.url.rstrip("/"), token)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def call(transport: Transport, method: str, target: str, body: Any = None) -> Any:
    """One API call; a refusal or an unreachable hub becomes a CommandError."""
    try:
        return transport.call(method, target, body).body
    except HubError as exc:
        raise CommandError(exc.reason, 2 if exc.status in (400, 409, 422) else 1) from exc
    finally:
        transport.close()
