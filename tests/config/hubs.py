"""Real `thereyet server` processes for the configuration and recovery drills."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN
from tests.servers import free_port


def start_hub(
    data_dir: Path, db: str | None = None, node: str = "node-a", *extra: str
) -> tuple[subprocess.Popen[bytes], str]:
    """A hub process on a free port; return it and its URL once it answers."""
    port = free_port()
    env = {**os.environ, "THEREYET_ADMIN_TOKEN": ADMIN_TOKEN, "THEREYET_NODE": node}
    command = [sys.executable, "-m", "thereyet.cli.main", "server", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--log-level", "warning", *extra]
    if db:
        command += ["--db", db]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, f"hub {node} exited at start"
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"hub {node} did not start"
        time.sleep(0.1)


def stop_hub(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def api(url: str) -> httpx.Client:
    return httpx.Client(
        base_url=url, timeout=30, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
