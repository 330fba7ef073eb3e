"""Helpers for ChatOps tests: a room, a commands file, a recording HTTP service."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.servers import Recorder, recording_server


def make_room(client: TestClient, name: str = "ops") -> None:
    response = client.post("/api/v1/rooms", json={"name": name, "title": name, "topic": ""})
    assert response.status_code == 201, response.text


def say(client: TestClient, room: str, text: str, **headers: str) -> None:
    response = client.post(f"/api/v1/rooms/{room}/messages", json={"text": text}, headers=headers)
    assert response.status_code == 201, response.text


def messages(client: TestClient, room: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/rooms/{room}/messages", params={"limit": 500})
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


def texts(client: TestClient, room: str) -> list[str]:
    return [m["text"] for m in messages(client, room)]


def wait_for_record(client: TestClient, record_id: int, timeout: float = 20) -> dict[str, Any]:
    """Poll an execution record until it has ended (a real subprocess runs meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        record = client.get(f"/api/v1/commands/runs/{record_id}").json()
        if record["status"] not in ("running", "waiting") or time.monotonic() > deadline:
            return dict(record)
        time.sleep(0.05)


@pytest.fixture
def commands_toml(tmp_path: Path) -> Path:
    """The commands file the test hub reads (commands.toml in its data directory)."""
    return tmp_path / "commands.toml"


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """An HTTP service on 127.0.0.1 that records the JSON it is sent."""
    with recording_server() as rec:
        yield rec
