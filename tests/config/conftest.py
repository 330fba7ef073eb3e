"""Helpers for configuration-as-code tests: a second, empty hub database and a hub
configured through the API, the way an admin would before adopting the files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.nodes import fresh_pg_database


@pytest.fixture
def other_db(db_url: str, tmp_path: Path) -> Iterator[str]:
    """Another empty database on the same backend as `db_url`."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    with fresh_pg_database(db_url) as url:
        yield url


def ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def configure_through_api(client: Any) -> None:
    """One object of every kind, made one API call at a time."""
    ok(client.post("/api/v1/rooms", json={"name": "ops", "title": "Ops room", "topic": "all"}))
    ok(client.post("/api/v1/jobs", json={"name": "backup", "runbook_url": "https://wiki/b"}))
    schedule = {
        "schedule": "0 3 * * *",
        "timezone": "Europe/Berlin",
        "limits": {"grace": 300, "max_duration": "2h"},
        "target": {
            "kind": "http",
            "url": "https://hooks.internal/backup",
            "headers": {"X-Key": "k1"},
        },
        "room": "ops",
    }
    ok(client.put("/api/v1/jobs/backup/schedule", json=schedule))
    ok(client.post("/api/v1/channels", json={"name": "chat", "url": "json://127.0.0.1:9/chat"}))
    ok(
        client.post(
            "/api/v1/routes", json={"channel": "chat", "job": "backup", "events": ["failed"]}
        )
    )
    person = {
        "timezone": "Europe/Berlin",
        "contact_methods": [{"name": "email", "url": "mailto://alice@example.com"}],
        "rules": [{"method": "email", "after_minutes": 0}],
    }
    ok(client.put("/api/v1/oncall/people/alice", json=person))
    ok(client.put("/api/v1/oncall/people/bob", json={}))
    rotation = {"timezone": "UTC", "start_date": "2026-01-05", "participants": ["alice", "bob"]}
    ok(client.put("/api/v1/oncall/rotations/primary", json=rotation))
    override = {
        "person": "bob",
        "starts_at": "2026-03-10T09:00:00Z",
        "ends_at": "2026-03-11T09:00:00Z",
    }
    ok(client.post("/api/v1/oncall/rotations/primary/overrides", json=override))
    steps = [{"targets": [{"kind": "rotation", "name": "primary"}], "delay_minutes": 5}]
    ok(client.put("/api/v1/oncall/policies/default", json={"steps": steps, "repeat": 2}))
    service = {"room": "ops", "policy": "default", "runbook_url": "https://wiki/storage"}
    ok(client.put("/api/v1/oncall/services/storage", json=service))
    ok(client.put("/api/v1/oncall/jobs/backup", json={"service": "storage", "events": ["failed"]}))
    alert_source = {"name": "am", "service": "storage", "kind": "alertmanager"}
    ok(client.post("/api/v1/integrations", json=alert_source))
    hook = {"name": "gh", "kind": "github", "room": "ops", "secret": "s" * 20}
    ok(client.post("/api/v1/integrations", json=hook))
    ok(client.post("/api/v1/bridges", json={"room": "ops", "channel": "chat"}))
    ok(
        client.post(
            "/api/v1/users",
            json={"username": "carol", "password": "pw-carol-1", "role": "operator"},
        )
    )
    ok(client.post("/api/v1/tokens", json={"name": "ci", "scope": "ingest", "jobs": ["backup"]}))
    ok(client.post("/api/v1/ping-keys", json={"name": "cron-hosts"}))
