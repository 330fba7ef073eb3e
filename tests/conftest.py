"""Shared fixtures: a fake clock, a database per backend, a hub app with a client.

PostgreSQL tests run wherever a server answers at THEREYET_TEST_PG_URL
(default: the local server); elsewhere they are skipped with the reason, unless
THEREYET_REQUIRE_PG=1 (set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock
from thereyet.server.config import Settings
from thereyet.server.store.engine import make_engines
from thereyet.server.store.migrate import upgrade
from thereyet.server.store.tables import metadata

pytest_plugins = ["tests.long_first"]

PG_URL = os.environ.get("THEREYET_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ADMIN_TOKEN = "ty_testadmin_" + "s" * 32
# Passwords are hashed at argon2's least cost in tests, in this process and in every hub and
# CLI process a test starts (they inherit the variable): at the shipped cost (64 MiB, 3
# passes, 4 lanes) each sign-in and new user took a third of a second of both cores, and
# hashing was two fifths of the page tests' time. tests/people/test_password_cost.py checks
# the shipped cost, and that a hash of another cost still signs in and is redone.
TEST_HASH_COST = "m=8,t=1,p=1"
os.environ.setdefault("THEREYET_PASSWORD_HASH_COST", TEST_HASH_COST)


# Functional tests wait for an answer; they do not time it (benchmarks do, under bench/).
# httpx's default of 5 s failed tests whose hub a loaded two-core machine (CI, with the
# suite's own workers, browsers and hub processes) kept from answering that fast, so
# every httpx client and call in the tests waits a minute unless it says otherwise.
PATIENT = httpx.Timeout(60.0)
for _call in (httpx.Client.__init__, httpx.AsyncClient.__init__, httpx.stream.__wrapped__):
    _call.__kwdefaults__["timeout"] = PATIENT
for _name in ("request", "get", "options", "head", "post", "put", "patch", "delete"):
    getattr(httpx, _name).__kwdefaults__["timeout"] = PATIENT


def _pg_unavailable() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string()}: {exc}"
    return None


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    reason = _pg_unavailable()
    if reason:
        if os.environ.get("THEREYET_REQUIRE_PG") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"thereyet_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_pg(url: str) -> None:
    """Empty every table of the hub's schema at `url` (if it has been made). Only the
    tables holding rows are truncated: TRUNCATE makes new files for a table and its
    indexes, which costs about as much for an empty table as for a full one."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if conn.execute(text("SELECT to_regclass('runs')")).scalar():
            held = " UNION ALL ".join(
                f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM {t.name})"  # noqa: S608 (our tables)
                for t in metadata.sorted_tables
            )
            names = list(conn.execute(text(held)).scalars())
            if names:
                conn.execute(text(f"TRUNCATE {', '.join(names)} CASCADE"))
    engine.dispose()


@functools.cache
def _sqlite_schema() -> Path:
    """A SQLite file this test process brought to the newest schema once (with the
    hub's own migrations; without fsync, as nothing depends on it surviving a crash)."""
    folder = Path(tempfile.mkdtemp(prefix="thereyet-schema-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "hub.db"
    engines = make_engines(f"sqlite:///{path}", sqlite_synchronous="OFF")
    try:
        upgrade(engines.write)
    finally:
        engines.dispose()
    assert not path.with_name("hub.db-wal").exists(), "the schema is not all in one file"
    return path


def migrated_sqlite(path: Path) -> str:
    """The URL of a new SQLite file at `path` already at the newest schema: a copy of
    one migrated once per test process. A hub started on it finds no migration to run,
    which saves each test the many fsynced commits of migrating an empty file (seconds
    on a busy disk). Tests of migrations and of a first start use `empty_sqlite_url`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_schema(), path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL on each backend: SQLite at the newest schema in a temp dir, or the
    session's PostgreSQL database emptied (its schema is kept once a hub has made it)."""
    if request.param == "sqlite":
        return migrated_sqlite(tmp_path / "hub.db")
    url: str = request.getfixturevalue("pg_database")
    _empty_pg(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in a temp dir, already at the newest schema (see `migrated_sqlite`)."""
    return migrated_sqlite(tmp_path / "hub.db")


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in a temp dir that does not exist yet: a hub's first start makes it."""
    return f"sqlite:///{tmp_path / 'hub.db'}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


def make_settings(db: str, data_dir: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "admin_token": ADMIN_TOKEN,
        "node": "test-node",
        "password_hash_cost": TEST_HASH_COST,
        **extra,
    }
    return Settings(db=db, data_dir=data_dir, **values)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path)


@pytest.fixture
def client(settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    """A client of a real hub app (in-process ASGI), authenticated as admin."""
    app = create_app(settings, clock)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield test_client


def as_token(client: TestClient, token: str | None) -> dict[str, str]:
    """Headers that call as another token (or none)."""
    return {"Authorization": f"Bearer {token}"} if token else {"Authorization": ""}
