"""A bridged room whose channel posts back into it through an inbound hook: each message
goes out once, and what comes back through the hook is not sent out again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.servers import Recorder, serve, wait_for
from thereyet.server.app import create_app
from thereyet.server.clock import SystemClock


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    """A hub served by uvicorn, its workers running, and an admin client of it."""
    app = create_app(make_settings(sqlite_url, tmp_path / "hub"), SystemClock())
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client


def team_chat_relays_into(api: httpx.Client, recorder: Recorder, hook_url: str) -> None:
    """Make the recorder behave as a chat whose outgoing webhook feeds the hub's Slack
    hook with every message posted in the channel (the bridge's among them)."""

    def relay(entry: dict[str, Any]) -> None:
        body = {"text": entry["json"]["message"], "username": "team-chat"}
        threading.Thread(
            target=httpx.post,
            args=(str(api.base_url.join(hook_url)),),
            kwargs={"json": body, "timeout": 10},
        ).start()

    recorder.on_request = relay


def room(api: httpx.Client) -> list[dict[str, Any]]:
    return list(api.get("/api/v1/rooms/ops/messages", params={"limit": 500}).json()["messages"])


def echo_of(api: httpx.Client, text: str) -> dict[str, Any] | None:
    return next((m for m in room(api) if m["author"] == "team-chat-in" and m["text"] == text), None)


def bridge_went_past(api: httpx.Client, message_id: int) -> bool:
    [bridge] = api.get("/api/v1/bridges").json()["bridges"]
    return bool(bridge["last_message_id"] >= message_id)


def test_what_the_channel_echoes_back_through_a_hook_is_not_mirrored_again(
    api: httpx.Client, recorder: Recorder
):
    assert api.post("/api/v1/rooms", json={"name": "ops", "title": "Ops"}).status_code == 201
    made = api.post(
        "/api/v1/integrations", json={"name": "team-chat-in", "format": "slack", "room": "ops"}
    )
    assert made.status_code == 201, made.text
    channel = {"name": "team-chat", "url": f"json://127.0.0.1:{recorder.port}/chat"}
    assert api.post("/api/v1/channels", json=channel).status_code == 201
    assert (
        api.post("/api/v1/bridges", json={"room": "ops", "channel": "team-chat"}).status_code == 201
    )
    team_chat_relays_into(api, recorder, made.json()["url"])

    for n, text in enumerate(["deploy is done", "and the cache is warm"], start=1):
        said = api.post("/api/v1/rooms/ops/messages", json={"text": text})
        assert said.status_code == 201, said.text
        echo = wait_for(lambda text=text: echo_of(api, f"admin: {text}"))
        assert echo["data"]["inbound"] is True
        # Once the bridge has gone past the echo, it has decided about it for good:
        # its outbox rows are written with the move of its cursor.
        wait_for(lambda echo=echo: bridge_went_past(api, echo["id"]))
        deliveries = api.get("/api/v1/deliveries", params={"channel": "team-chat"}).json()
        assert len(deliveries["deliveries"]) == n
    assert [r["json"]["message"] for r in recorder.requests] == [
        "admin: deploy is done",
        "admin: and the cache is warm",
    ]
    assert [m["text"] for m in room(api)] == [
        "deploy is done",
        "admin: deploy is done",
        "and the cache is warm",
        "admin: and the cache is warm",
    ]
