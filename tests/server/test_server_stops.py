"""`thereyet server` stops quickly and cleanly on Ctrl-C, with live streams open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.servers import free_port, wait_for


@pytest.fixture
def hub_process(tmp_path):
    port = free_port()
    env = {**os.environ, "THEREYET_ADMIN_TOKEN": ADMIN_TOKEN}
    command = [sys.executable, "-m", "thereyet.cli.main", "server", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--data-dir", str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert process.poll() is None, process.communicate()[0]
        try:
            return httpx.get(f"{url}/api/v1/health").status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(answers, timeout=30, every=0.1)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.slow
def test_server_stops_within_two_seconds_on_ctrl_c_with_streams_open(hub_process):
    process, url = hub_process
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    httpx.post(f"{url}/api/v1/runs", json={"job": "export", "room": "ops"}, headers=admin)
    share = httpx.post(
        f"{url}/api/v1/shares", json={"kind": "room", "target": "ops"}, headers=admin
    ).json()["token"]
    with httpx.Client(timeout=30) as browser:
        streams = [
            browser.send(browser.build_request("GET", f"{url}{page}?share={share}"), stream=True)
            for page in ("/live/runs", "/live/room/ops")
        ]
        assert all(s.headers["content-type"].startswith("text/event-stream") for s in streams)
        time.sleep(0.3)  # the streams are being served
        asked = time.monotonic()
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
        took = time.monotonic() - asked
        for stream in streams:
            stream.close()
    print(f"stopped {took:.2f} s after SIGINT")
    assert process.returncode == 0
    assert took < 2, f"stopped after {took:.1f} s"
    assert "Traceback" not in output and "CancelledError" not in output, output
    assert "Application shutdown complete" in output
