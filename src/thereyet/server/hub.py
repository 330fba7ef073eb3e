"""The hub's parts, built once and handed to services, workers and transports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from .bus import Bus
from .bus_bridge import PostgresBridge
from .clock import Clock
from .config import Settings
from .store.engine import Engines, make_engines
from .store.files import private_data_dir, private_sqlite_file
from .store.migrate import upgrade
from .store.wal import Checkpointer, WalSync
from .store.writer import Writer

T = TypeVar("T")


@dataclass
class Hub:
    settings: Settings
    clock: Clock
    engines: Engines
    writer: Writer
    bus: Bus
    # On PostgreSQL, the bus reaches every node through it; SQLite is one node.
    bridge: PostgresBridge | None = None
    # On SQLite, the WAL is checkpointed by it rather than by the writer's commits.
    checkpointer: Checkpointer | None = None
    # On SQLite with synchronous FULL, the writer's commits are made durable by it.
    wal_sync: WalSync | None = None

    @classmethod
    def open(cls, settings: Settings, clock: Clock) -> Hub:
        """Connect to the database, bring its schema up to date and start the writer."""
        if not settings.db:
            private_data_dir(settings.data_dir)
        private_sqlite_file(settings.database_url)
        sqlite = settings.database_url.startswith("sqlite")
        synchronous = settings.sqlite_synchronous.upper()
        wal_sync = None
        if sqlite and synchronous == "FULL" and settings.sqlite_sync_apart:
            # The writer's commits write the WAL; WalSync makes them durable before
            # anyone is answered (see store/wal.py).
            wal_sync = WalSync(Path(make_url(settings.database_url).database or ""))
            wal_sync.start()
            synchronous = "NORMAL"
        engines = make_engines(
            settings.database_url, sqlite_synchronous=synchronous, sqlite_checkpoints=False
        )
        upgrade(engines.write)
        writer = Writer(engines.write, clock.now, durable=wal_sync)
        writer.start()
        bus = Bus()
        bridge = checkpointer = None
        if engines.dialect == "postgresql" and settings.bus_bridge:
            bridge = PostgresBridge(bus, settings.database_url)
            bridge.start()
        if engines.dialect == "sqlite":
            checkpointer = Checkpointer(engines.read)
            checkpointer.start()
        return cls(settings, clock, engines, writer, bus, bridge, checkpointer, wal_sync)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """`fn` on a read connection, in a thread: from a coroutine (a worker's tick, a
        request answered on the event loop), a read must not hold the loop while the
        database answers, a table is locked or the server is being reached."""

        def run() -> T:
            with self.engines.read.connect() as conn:
                return fn(conn)

        return await asyncio.to_thread(run)

    def close(self) -> None:
        if self.bridge is not None:
            self.bridge.stop()
        self.writer.stop()
        if self.wal_sync is not None:
            self.wal_sync.stop()
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engines.dispose()
