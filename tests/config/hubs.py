"""Real `thereyet server` processes for the configuration and recovery drills
(started with the suite's one launcher, tests.servers.HubProcess)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN
from tests.servers import HubProcess


def start_hub(
    data_dir: Path, db: str | None = None, node: str = "node-a"
) -> tuple[HubProcess, str]:
    """A hub process on a free port; return it and its URL once it answers."""
    hub = HubProcess(data_dir, db=db or "", env={"THEREYET_NODE": node})
    hub.start(timeout=60)
    return hub, hub.url


def stop_hub(hub: HubProcess) -> None:
    hub.stop()


def api(url: str) -> httpx.Client:
    return httpx.Client(
        base_url=url, timeout=30, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
