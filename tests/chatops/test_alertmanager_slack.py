"""A real Prometheus Alertmanager posts through `slack_configs` to the hub's Slack hook."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.conftest import ADMIN_TOKEN, make_settings
from thereyet.server.app import create_app
from thereyet.server.clock import SystemClock

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def hub_url(sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    """A hub served by uvicorn in a thread, on a free loopback port."""
    app = create_app(make_settings(sqlite_url, tmp_path / "hub"), SystemClock())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the hub did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def start_alertmanager(tmp_path: Path, api_url: str) -> tuple[subprocess.Popen[bytes], str]:
    config = tmp_path / "am.yml"
    config.write_text(
        f"""
route:
  receiver: hub
  group_by: [alertname]
  group_wait: 2s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: hub
    slack_configs:
      - api_url: {api_url}
        channel: '#ops'
        send_resolved: true
"""
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, f"http://127.0.0.1:{port}"


def wait_for(check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def test_alertmanager_firing_and_resolved_reach_the_room_in_one_thread(hub_url, tmp_path):
    if not Path(ALERTMANAGER).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{ALERTMANAGER} is needed in CI")
        pytest.skip(f"{ALERTMANAGER} is not installed (apt-get install prometheus-alertmanager)")
    hub = httpx.Client(base_url=hub_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    made = hub.post(
        "/api/v1/integrations", json={"name": "alertmanager", "format": "slack", "room": "ops"}
    )
    assert made.status_code == 201, made.text
    proc, am_url = start_alertmanager(tmp_path, hub_url + made.json()["url"])
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
