"""The hub's parts, built once and handed to services, workers and transports."""

from __future__ import annotations

from dataclasses import dataclass

from .bus import Bus
from .bus_bridge import PostgresBridge
from .clock import Clock
from .config import Settings
from .store.engine import Engines, make_engines
from .store.files import private_data_dir, private_sqlite_file
from .store.migrate import upgrade
from .store.wal import Checkpointer
from .store.writer import Writer


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

    @classmethod
    def open(cls, settings: Settings, clock: Clock) -> Hub:
        """Connect to the database, bring its schema up to date and start the writer."""
        if not settings.db:
            private_data_dir(settings.data_dir)
        private_sqlite_file(settings.database_url)
        engines = make_engines(
            settings.database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            sqlite_checkpoints=False,
        )
        upgrade(engines.write)
        writer = Writer(engines.write, clock.now)
        writer.start()
        bus = Bus()
        bridge = checkpointer = None
        if engines.dialect == "postgresql" and settings.bus_bridge:
            bridge = PostgresBridge(bus, settings.database_url)
            bridge.start()
        if engines.dialect == "sqlite":
            checkpointer = Checkpointer(engines.read)
            checkpointer.start()
        return cls(settings, clock, engines, writer, bus, bridge, checkpointer)

    def close(self) -> None:
        if self.bridge is not None:
            self.bridge.stop()
        self.writer.stop()
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engines.dispose()
