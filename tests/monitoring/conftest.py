"""A hub whose workers are ticked by hand, a recording HTTP service and an SMTP sink."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.servers import Recorder, free_port, recording_server
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock
from thereyet.server.workers.dispatcher import Dispatcher
from thereyet.server.workers.monitor import Monitor
from thereyet.server.workers.scheduler import Scheduler


@dataclass
class HandHub:
    """A real hub app whose background loops are stopped: tests tick its workers."""

    client: TestClient
    clock: FakeClock
    app: Any

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        assert self.client.portal is not None
        return self.client.portal.call(fn, *args)

    def schedule(self) -> bool:
        return bool(self.call(Scheduler(self.app.state.schedules).tick, self.clock.now()))

    def monitor(self) -> bool:
        return bool(self.call(Monitor(self.app.state.monitoring).tick, self.clock.now()))

    def dispatch(self) -> bool:
        return bool(self.call(Dispatcher(self.app.state.notifications).tick, self.clock.now()))

    def room(self, name: str) -> list[str]:
        response = self.client.get(f"/api/v1/rooms/{name}/messages", params={"limit": 500})
        assert response.status_code == 200, response.text
        return [m["text"] for m in response.json()["messages"]]

    def put_schedule(self, job: str, **body: Any) -> dict[str, Any]:
        response = self.client.put(f"/api/v1/jobs/{job}/schedule", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())


def open_hand_hub(
    db: str, data_dir: Path, clock: FakeClock, node: str = "test-node", **settings: Any
) -> Iterator[HandHub]:
    app = create_app(make_settings(db, data_dir, node=node, **settings), clock)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        hand_hub = HandHub(client, clock, app)
        hand_hub.call(app.state.timely_workers.stop)
        hand_hub.call(app.state.workers.stop)
        hand_hub.call(app.state.heartbeat.stop)
        yield hand_hub


@pytest.fixture
def hand_hub(sqlite_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[HandHub]:
    yield from open_hand_hub(sqlite_url, tmp_path, clock)


@pytest.fixture
def any_hand_hub(db_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[HandHub]:
    """The same on SQLite and on PostgreSQL."""
    yield from open_hand_hub(db_url, tmp_path, clock)


# -- a service that records what it is sent ---------------------------------------------


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with recording_server() as rec:
        yield rec


# -- an SMTP server that keeps what it receives ------------------------------------------


@dataclass
class SmtpSink:
    port: int
    messages: list[Any]


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpSink(port, received)
    finally:
        controller.stop()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
