"""Hub-side commands: `thereyet server`, `thereyet token ...`.

They import the hub lazily, so client commands work without the server extra.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    server = sub.add_parser("server", help="start the hub")
    _database_options(server)
    server.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    server.add_argument("--port", type=int, help="port to listen on (default 8480)")
    server.add_argument(
        "--demo", action="store_true", default=None, help="seed a demo room with simulated runs"
    )
    server.add_argument("--log-level", default="info", help="uvicorn log level")
    server.set_defaults(handler=run_server)

    token = sub.add_parser("token", help="manage API tokens (on the hub's database)")
    tsub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = tsub.add_parser("create", help="create a token; it is printed once")
    _database_options(create)
    create.add_argument("--scope", choices=["admin", "read", "ingest"], required=True)
    create.add_argument("--name", help="what the token is for (default: its scope)")
    create.add_argument("--job", action="append", default=[], help="limit an ingest token to a job")
    create.add_argument(
        "--room", action="append", default=[], help="limit an ingest token to a room"
    )
    create.set_defaults(handler=create_token)
    listing = tsub.add_parser("list", help="list tokens (never their secrets)")
    _database_options(listing)
    listing.set_defaults(handler=list_tokens)
    revoke = tsub.add_parser("revoke", help="revoke a token by id")
    _database_options(revoke)
    revoke.add_argument("id")
    revoke.set_defaults(handler=revoke_token)


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database URL (default: SQLite in the data directory)")
    parser.add_argument("--data-dir", type=Path, help="data directory")


def _settings(args: argparse.Namespace) -> Any:
    from ..server.config import settings_from_env

    return settings_from_env().with_overrides(
        db=args.db,
        data_dir=args.data_dir,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        demo=getattr(args, "demo", None),
    )


def run_server(args: argparse.Namespace) -> int:
    import uvicorn

    from ..server.app import create_app
    from ..server.slow_clients import protocol_with

    settings = _settings(args)
    print(
        f"thereyet: hub on http://{settings.host}:{settings.port} "
        f"(database {settings.database_url.split('@')[-1]})",
        file=sys.stderr,
    )
    app = create_app(settings)
    _tune_gc()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=5,
        http=protocol_with(settings.header_timeout),
        proxy_headers=False,  # the app believes only settings.trusted_proxies
    )
    return 0


def _tune_gc() -> None:
    """Collect garbage less often, and never scan what was loaded at start again.

    With the default thresholds the collector ran every 700 allocations and often
    walked the whole heap (the framework, the ORM, the schemas): under a thousand
    reports a second that was a tenth of the writer's time, and the pauses held up
    every request. Cyclic garbage is still collected, in larger and rarer batches."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def _with_hub(args: argparse.Namespace, action: Any) -> Any:
    from ..server.clock import SystemClock
    from ..server.hub import Hub

    hub = Hub.open(_settings(args), SystemClock())
    try:
        return hub.writer.run_sync(action)
    finally:
        hub.close()


def create_token(args: argparse.Namespace) -> int:
    from ..server.domain.access import Scope
    from ..server.services.errors import ServiceError
    from ..server.services.tokens import issue

    scope = Scope(args.scope)
    name = args.name or (f"{scope.value}: " + ", ".join(args.job + args.room)).rstrip(": ")
    try:
        token, _row = _with_hub(
            args,
            lambda tx: issue(
                tx.conn, tx.now, name=name, scope=scope, jobs=args.job, rooms=args.room
            ),
        )
    except ServiceError as exc:
        print(f"thereyet: {exc.message}", file=sys.stderr)
        return 2
    print(token)
    print("(shown once: store it now; the hub keeps only its hash)", file=sys.stderr)
    return 0


def list_tokens(args: argparse.Namespace) -> int:
    from ..server.store.tokens import list_tokens as rows

    for row in _with_hub(args, lambda tx: rows(tx.conn)):
        limits = ",".join(row.jobs + row.rooms) or "-"
        state = "revoked" if row.revoked_at else "active"
        print(f"{row.id}\t{row.scope}\t{state}\t{limits}\t{row.name}")
    return 0


def revoke_token(args: argparse.Namespace) -> int:
    from ..server.store.tokens import revoke_token as revoke

    if _with_hub(args, lambda tx: revoke(tx.conn, args.id, tx.now)):
        print(f"revoked {args.id}")
        return 0
    print(f"thereyet: no active token with id {args.id}", file=sys.stderr)
    return 1
