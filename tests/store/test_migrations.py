"""The migrations build exactly the schema the tables describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from thereyet.server.store.engine import make_engines
from thereyet.server.store.migrate import include_object, is_current, upgrade
from thereyet.server.store.tables import metadata


@pytest.fixture
def db_url(db_url: str, empty_sqlite_url: str) -> str:
    """Each backend, SQLite as an empty file (not the suite's copy of a migrated one)."""
    return empty_sqlite_url if db_url.startswith("sqlite") else db_url


def test_migrations_match_the_tables(db_url):
    engines = make_engines(db_url)
    try:
        upgrade(engines.write)
        upgrade(engines.write)  # a second start changes nothing
        assert is_current(engines.read)
        with engines.read.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": include_object})
            diff = compare_metadata(context, metadata)
        assert diff == []
    finally:
        engines.dispose()


def test_sqlite_runs_in_wal_mode_with_full_sync(empty_sqlite_url):
    engines = make_engines(empty_sqlite_url)
    try:
        upgrade(engines.write)
        with engines.read.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engines.dispose()
