"""Migration 0018 moves the alert sources into the one integrations table: senders set up
before it keep working unchanged, with the tokens they have (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.nodes import fresh_pg_database
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock
from thereyet.server.store.engine import make_engines
from thereyet.server.store.migrate import alembic_config

PD_KEY = "0123456789abcdef0123456789abcdef"
AM_TOKEN = "fedcba9876543210fedcba9876543210"
HOOK_TOKEN = "old-hook-token-made-before-0018"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _at_0015(engine: Engine) -> None:
    """The schema as the previous release left it, with what its API had made."""
    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0015")
        conn.commit()
    rows = [
        "INSERT INTO rooms (id, name, title, topic, created_at) VALUES (1, 'ops', 'Ops', '', :t)",
        "INSERT INTO incident_services (id, name, room, require_runbook, created_at)"
        " VALUES (1, 'payments', 'ops', 0, :t)",
        "INSERT INTO incident_integrations (name, service_id, kind, token_hash, created_at)"
        " VALUES ('pd', 1, 'pagerduty', :pd, :t), ('chat', 1, 'alertmanager', :am, :t)",
        "INSERT INTO integrations (name, format, room_id, token_hash, owner, rejected,"
        " created_at) VALUES ('chat', 'slack', 1, :hook, 'admin', 0, :t)",
        "INSERT INTO hook_deliveries (integration_id, delivery_id, created_at)"
        " SELECT id, 'seen-1', :t FROM integrations",
    ]
    values = {"t": NOW, "pd": _hash(PD_KEY), "am": _hash(AM_TOKEN), "hook": _hash(HOOK_TOKEN)}
    with engine.begin() as conn:
        for statement in rows:
            conn.execute(text(statement), values)
        if conn.dialect.name == "postgresql":
            for table in ("rooms", "incident_services"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 2)"))


@pytest.fixture
def old_db(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend (a new one on PostgreSQL: no schema at all; on
    SQLite a new file, since `db_url` is already at the newest schema)."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with fresh_pg_database(db_url) as url:
        yield url


@pytest.fixture
def upgraded(old_db: str, tmp_path: Path) -> Iterator[TestClient]:
    db_url = old_db
    engines = make_engines(db_url)
    try:
        _at_0015(engines.write)
    finally:
        engines.dispose()
    clock = FakeClock(NOW)
    app = create_app(make_settings(db_url, tmp_path), clock)  # its start runs 0018
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client


def test_old_tokens_still_deliver_after_the_migration(upgraded: TestClient):
    event = {
        "routing_key": PD_KEY,
        "event_action": "trigger",
        "payload": {"summary": "card payments failing", "source": "pay-1", "severity": "error"},
    }
    assert upgraded.post("/v2/enqueue", json=event).status_code == 202
    note = {
        "version": "4",
        "groupKey": "g",
        "status": "firing",
        "alerts": [{"status": "firing", "labels": {"alertname": "Slow"}, "fingerprint": "f"}],
    }
    assert upgraded.post(f"/api/v1/alerts/{AM_TOKEN}/alertmanager", json=note).status_code == 200
    assert upgraded.post(f"/hooks/slack/{HOOK_TOKEN}", json={"text": "hi"}).text == "ok"
    summaries = {i["summary"] for i in upgraded.get("/api/v1/incidents").json()["incidents"]}
    assert summaries == {"card payments failing", "Slow"}


def test_moved_alert_sources_are_listed_in_the_one_collection(upgraded: TestClient):
    listed = {i["name"]: i for i in upgraded.get("/api/v1/integrations").json()["integrations"]}
    assert {n: (i["kind"], i["room"], i["service"]) for n, i in listed.items()} == {
        "chat": ("slack", "ops", None),
        "pd": ("pagerduty", None, "payments"),
        "chat-alertmanager": ("alertmanager", None, "payments"),  # its name was taken
    }


def test_the_redelivery_memory_survives_the_migration(upgraded: TestClient, old_db: str):
    engines = make_engines(old_db)
    try:
        with engines.read.connect() as conn:
            seen = conn.execute(text("SELECT delivery_id FROM hook_deliveries")).scalars()
            assert list(seen) == ["seen-1"]
    finally:
        engines.dispose()
