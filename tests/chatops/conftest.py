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


def person(client: TestClient, username: str, role: str = "operator") -> dict[str, str]:
    """The session cookies of a new user `username`, signed in to the pages."""
    from tests.web.conftest import add_user, sign_in

    add_user(client, username, role)
    browser = TestClient(client.app, raise_server_exceptions=False)
    sign_in(browser, username)
    return dict(browser.cookies)


def say_as(client: TestClient, session: dict[str, str], room: str, text: str) -> None:
    """Post `text` in `room` from its page, as the person whose session this is.

    Sent through `client` (whose event loop runs for the whole test), so that a
    command the message starts is not cut short with a one-request loop."""
    from tests.web.conftest import page_csrf

    saved = dict(client.cookies)
    client.cookies.clear()
    client.cookies.update(session)
    try:
        nobody = {"Authorization": ""}
        csrf = page_csrf(client.get(f"/rooms/{room}", headers=nobody).text)
        response = client.post(
            f"/rooms/{room}/messages",
            data={"text": text, "csrf": csrf},
            headers=nobody,
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
    finally:
        client.cookies.clear()
        client.cookies.update(saved)
