"""Hub-side commands: `thereyet server`, `thereyet token ...`.

They import the hub lazily, so client commands work without the server extra.
Token commands act on the hub's existing database or, with --url, on a running
hub over its API (see hub_target).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
from pathlib import Path
from typing import Any

from ..client.transport import path
from .hub_target import CommandError, add_hub_options, api, call, open_hub
from .hub_target import settings as _settings


def register(sub: Any) -> None:
    server = sub.add_parser("server", help="start the hub")
    _database_options(server)
    server.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    server.add_argument("--port", type=int, help="port to listen on (default 8480)")
    server.add_argument(
        "--demo", action="store_true", default=None, help="seed a demo room with simulated runs"
    )
    server.add_argument("--log-level", default="info", help="uvicorn log level")
    server.add_argument(
        "--backup-every", help="write a backup this often into DATA_DIR/backups (e.g. 6h)"
    )
    server.add_argument("--backup-keep", type=int, help="scheduled backups kept (default 28)")
    server.set_defaults(handler=run_server)

    token = sub.add_parser("token", help="manage API tokens (on the hub's database)")
    tsub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = tsub.add_parser("create", help="create a token; it is printed once")
    add_hub_options(create)
    create.add_argument("--scope", choices=["admin", "read", "ingest", "agent"], required=True)
    create.add_argument("--name", help="what the token is for (default: its scope)")
    create.add_argument("--job", action="append", default=[], help="limit an ingest token to a job")
    create.add_argument(
        "--room", action="append", default=[], help="limit an ingest token to a room"
    )
    create.add_argument("--agent", help="make an agent token for this one agent name")
    create.set_defaults(handler=create_token)
    listing = tsub.add_parser("list", help="list tokens (never their secrets)")
    add_hub_options(listing)
    listing.set_defaults(handler=list_tokens)
    revoke = tsub.add_parser("revoke", help="revoke a token by id")
    add_hub_options(revoke)
    revoke.add_argument("id")
    revoke.set_defaults(handler=revoke_token)


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database URL (default: SQLite in the data directory)")
    parser.add_argument("--data-dir", type=Path, help="data directory")


def run_server(args: argparse.Namespace) -> int:
    import uvicorn

    from ..server.app import create_app
    from ..server.single_node import AlreadyServed, hold_sqlite_database
    from ..server.slow_clients import protocol_with

    settings = _settings(args)
    if settings.backup_every:
        from ..server.domain.schedules import ScheduleError, parse_duration

        try:
            parse_duration(settings.backup_every)
        except ScheduleError as exc:
            print(f"thereyet: --backup-every: {exc}", file=sys.stderr)
            return 2
    from ..server.services.people import password_hasher

    try:
        password_hasher(settings.password_hash_cost)
    except ValueError as exc:
        print(f"thereyet: {exc}", file=sys.stderr)
        return 2
    if not settings.db:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        lock = hold_sqlite_database(settings.database_url)  # held until the process ends
    except AlreadyServed as exc:
        print(f"thereyet: {exc}", file=sys.stderr)
        return 1
    print(
        f"thereyet: hub on http://{settings.host}:{settings.port} "
        f"(database {settings.database_url.split('@')[-1]})",
        file=sys.stderr,
    )
    app = create_app(settings)
    _tune_gc()
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=5,
        http=protocol_with(settings.header_timeout),
        proxy_headers=False,  # the app believes only settings.trusted_proxies
    )
    server = _server_class()(config, on_stop=lambda: _end_streams(app))
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: stop at once, quietly
        server.run()
    if lock is not None:
        lock.close()
    return 0


def _end_streams(app: Any) -> None:
    live = getattr(app.state, "live", None)
    if live is not None:
        live.end_streams()


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, calling `on_stop` as soon as it starts to stop.

        The hub ends its live streams there: otherwise a stream open in a browser
        holds the shutdown up for the whole graceful timeout, after which uvicorn
        cancels it with a traceback."""

        def __init__(self, config: Any, on_stop: Any) -> None:
            super().__init__(config)
            self.on_stop = on_stop

        async def shutdown(self, sockets: Any = None) -> None:
            self.on_stop()
            await super().shutdown(sockets)

    return Server


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
    hub = open_hub(args)
    try:
        return hub.writer.run_sync(action)
    finally:
        hub.close()


def create_token(args: argparse.Namespace) -> int:
    from ..server.domain.access import Scope
    from ..server.services.errors import ServiceError
    from ..server.services.tokens import issue

    scope = Scope(args.scope)
    limits = args.job + args.room + ([args.agent] if args.agent else [])
    name = args.name or (f"{scope.value}: " + ", ".join(limits)).rstrip(": ")
    transport = api(args)
    if transport is not None:
        body = {"name": name, "scope": scope.value, "jobs": args.job, "rooms": args.room}
        if args.agent:
            body["agent"] = args.agent
        token = call(transport, "POST", path("tokens"), body)["token"]
    else:
        try:
            token, _row = _with_hub(
                args,
                lambda tx: issue(
                    tx.conn,
                    tx.now,
                    name=name,
                    scope=scope,
                    jobs=args.job,
                    rooms=args.room,
                    agent=args.agent,
                ),
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
    print(token)
    print("(shown once: store it now; the hub keeps only its hash)", file=sys.stderr)
    return 0


def list_tokens(args: argparse.Namespace) -> int:
    from ..server.store.tokens import list_tokens as rows

    transport = api(args)
    if transport is not None:
        for view in call(transport, "GET", path("tokens"))["tokens"]:
            limits = ",".join(view["jobs"] + view["rooms"] + _agent(view.get("agent"))) or "-"
            state = "revoked" if view.get("revoked_at") else "active"
            print(f"{view['id']}\t{view['scope']}\t{state}\t{limits}\t{view['name']}")
        return 0
    for row in _with_hub(args, lambda tx: rows(tx.conn)):
        limits = ",".join(row.jobs + row.rooms + _agent(row.agent)) or "-"
        state = "revoked" if row.revoked_at else "active"
        print(f"{row.id}\t{row.scope}\t{state}\t{limits}\t{row.name}")
    return 0


def _agent(name: str | None) -> list[str]:
    return [f"agent {name}"] if name else []


def revoke_token(args: argparse.Namespace) -> int:
    from ..server.services.tokens import FORGET_TOKENS
    from ..server.store.tokens import revoke_token as revoke

    transport = api(args)
    if transport is not None:  # the hub that answers tells its peers itself
        call(transport, "DELETE", path("tokens", args.id))
        revoked = True
    else:
        hub = open_hub(args)
        try:
            revoked = hub.writer.run_sync(lambda tx: revoke(tx.conn, args.id, tx.now))
            if revoked:  # on PostgreSQL, running nodes forget it now rather than within 5 s
                hub.bus.publish(FORGET_TOKENS, {})
        finally:
            hub.close()
    if revoked:
        print(f"revoked {args.id}")
        return 0
    print(f"thereyet: no active token with id {args.id}", file=sys.stderr)
    return 1
