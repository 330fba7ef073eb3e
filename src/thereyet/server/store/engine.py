"""Database engines: one for the single writer, one pool for readers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event

from .text import dumps, keep_text_storable, loads

SQLITE_SYNC_MODES = ("FULL", "NORMAL", "OFF")


@dataclass(frozen=True)
class Engines:
    read: Engine
    write: Engine

    @property
    def dialect(self) -> str:
        return self.write.dialect.name

    def dispose(self) -> None:
        self.read.dispose()
        self.write.dispose()


def make_engines(
    url: str, *, sqlite_synchronous: str = "FULL", sqlite_checkpoints: bool = True
) -> Engines:
    """Create the reader pool and the writer engine for `url`.

    On SQLite the writer opens its transactions with BEGIN IMMEDIATE so it never
    has to upgrade a read lock, and readers see committed data through WAL. With
    `sqlite_checkpoints=False` the writer's commits never checkpoint the WAL: the
    caller runs a store.wal.Checkpointer instead.
    """
    if url.startswith("sqlite"):
        engines = Engines(
            read=_sqlite_engine(url, immediate=False, synchronous=sqlite_synchronous),
            write=_sqlite_engine(
                url,
                immediate=True,
                synchronous=sqlite_synchronous,
                checkpoints=sqlite_checkpoints,
            ),
        )
    else:
        engines = Engines(
            read=create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True, **_JSON),
            write=create_engine(url, pool_size=2, max_overflow=2, pool_pre_ping=True, **_JSON),
        )
    keep_text_storable(engines.read)
    keep_text_storable(engines.write)
    return engines


# JSON columns are written and read so that both databases keep the same (store/text.py).
_JSON: dict[str, Any] = {"json_serializer": dumps, "json_deserializer": loads}


def _sqlite_engine(
    url: str, *, immediate: bool, synchronous: str, checkpoints: bool = True
) -> Engine:
    if synchronous.upper() not in SQLITE_SYNC_MODES:
        raise ValueError(f"sqlite synchronous must be one of {SQLITE_SYNC_MODES}")
    memory = url in ("sqlite://", "sqlite:///:memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if memory:
        raise ValueError("an in-memory SQLite database cannot be shared by reader and writer")
    if immediate:
        kwargs["pool_size"] = 1
        kwargs["max_overflow"] = 0
    engine = create_engine(url, **kwargs, **_JSON)
    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions
        # begin: otherwise SAVEPOINT (used per request inside a group commit)
        # does not work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine
