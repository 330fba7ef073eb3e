"""A real Prometheus Alertmanager posts through `slack_configs` to the hub's Slack hook."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.servers import ALERTMANAGER, missing, serve, start_alertmanager, wait_for
from thereyet.server.app import create_app
from thereyet.server.clock import SystemClock

pytestmark = pytest.mark.slow


@pytest.fixture
def hub_url(sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    """A hub served by uvicorn in a thread, on a free loopback port."""
    with serve(create_app(make_settings(sqlite_url, tmp_path / "hub"), SystemClock())) as url:
        yield url


def slack_receiver(api_url: str) -> str:
    return (
        f"    slack_configs:\n      - api_url: {api_url}\n"
        "        channel: '#ops'\n        send_resolved: true\n"
    )


def test_alertmanager_firing_and_resolved_reach_the_room_in_one_thread(hub_url, tmp_path):
    if not Path(ALERTMANAGER).exists():
        missing(f"{ALERTMANAGER} is not installed (scripts/test installs prometheus-alertmanager)")
    hub = httpx.Client(base_url=hub_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    made = hub.post(
        "/api/v1/integrations", json={"name": "alertmanager", "format": "slack", "room": "ops"}
    )
    assert made.status_code == 201, made.text
    proc, am_url = start_alertmanager(tmp_path, slack_receiver(hub_url + made.json()["url"]))
    am = httpx.Client(base_url=am_url)
    try:
        wait_for(lambda: _ready(am))
        alert = {
            "labels": {"alertname": "DiskFull", "instance": "db-1"},
            "annotations": {"summary": "Disk almost full"},
        }
        assert am.post("/api/v2/alerts", json=[alert]).status_code == 200

        def room() -> list[dict[str, Any]]:
            return list(hub.get("/api/v1/rooms/ops/messages").json()["messages"])

        [firing] = wait_for(room)
        assert firing["author"] == "alertmanager"
        assert "[FIRING:1] DiskFull" in firing["text"]
        ended = {**alert, "endsAt": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
        assert am.post("/api/v2/alerts", json=[ended]).status_code == 200
        firing, resolved = wait_for(lambda: len(room()) >= 2 and room())
        assert "[RESOLVED] DiskFull" in resolved["text"]
        assert firing["data"]["thread"] == resolved["data"]["thread"] == "slack:DiskFull (db-1)"
    finally:
        proc.terminate()
        proc.wait(10)
        am.close()
        hub.close()


def _ready(am: httpx.Client) -> bool:
    try:
        return am.get("/-/ready").status_code == 200
    except httpx.HTTPError:
        return False
