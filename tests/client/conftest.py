"""Fixtures for SDK tests: a real hub on a real port, and an SDK configured for it.

The SDK speaks HTTP through the standard library, so the hub runs in uvicorn
(in a thread of this process, or as a `thereyet server` subprocess).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, make_settings, migrated_sqlite
from tests.servers import HubProcess, RestartableServer
from thereyet.client import state
from thereyet.client.config import Config
from thereyet.server.app import create_app


@dataclass
class LiveHub:
    url: str
    token: str
    api: httpx.Client

    def run(self, run_id: str) -> dict[str, Any]:
        response = self.api.get(f"/api/v1/runs/{run_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def runs(self, **query: Any) -> list[dict[str, Any]]:
        response = self.api.get("/api/v1/runs", params=query)
        assert response.status_code == 200, response.text
        return list(response.json()["runs"])

    def events(self, run_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after = 0
        while True:
            page = self.api.get(
                f"/api/v1/runs/{run_id}/events", params={"after": after, "limit": 1000}
            ).json()
            found += page["events"]
            if not page["events"]:
                return found
            after = page["next_after"]

    def messages(self, room: str) -> list[dict[str, Any]]:
        response = self.api.get(f"/api/v1/rooms/{room}/messages")
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])


def _api(url: str) -> httpx.Client:
    return httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
    )


@pytest.fixture
def thread_hub(tmp_path: Path) -> Iterator[RestartableServer]:
    """A real hub (uvicorn in a thread, SQLite) that tests can stop and start again on
    the same port and database (an outage)."""
    settings = make_settings(migrated_sqlite(tmp_path / "hub.db"), tmp_path / "hub")
    served = RestartableServer(lambda: create_app(settings))
    served.start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def live_hub(thread_hub: RestartableServer) -> Iterator[LiveHub]:
    """A real hub (uvicorn in a thread) on a free port, with SQLite."""
    with _api(thread_hub.url) as api:
        yield LiveHub(thread_hub.url, ADMIN_TOKEN, api)


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[HubProcess]:
    process = HubProcess(tmp_path / "hub-data", env={"THEREYET_NODE": "sub"})
    process.start()
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture
def sdk_config(live_hub: LiveHub, tmp_path: Path) -> Config:
    return Config(
        url=live_hub.url,
        token=live_hub.token,
        spool_dir=tmp_path / "spool",
        progress_interval=0.05,
        send_interval=0.05,
        exit_timeout=5,
    )


@pytest.fixture
def sdk(sdk_config: Config, monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:
    """The process-wide SDK configured for the live hub (reset afterwards)."""
    monkeypatch.setenv("THEREYET_CONFIG", "/nonexistent/thereyet.toml")
    for name in ("THEREYET_URL", "THEREYET_TOKEN", "THEREYET_ROOM"):
        monkeypatch.delenv(name, raising=False)
    state.reset()
    state.configure(
        url=sdk_config.url,
        token=sdk_config.token,
        spool_dir=sdk_config.spool_dir,
        progress_interval=sdk_config.progress_interval,
        send_interval=sdk_config.send_interval,
    )
    yield sdk_config
    state.reset()


def client_env(url: str, token: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for an SDK subprocess: this hub, a private spool and config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THEREYET_")}
    config = tmp_path / "client.toml"
    if not config.exists():
        config.write_text("exit_timeout = 3.0\nprogress_interval = 0.1\nsend_interval = 0.05\n")
    env.update(
        THEREYET_URL=url,
        THEREYET_TOKEN=token,
        THEREYET_SPOOL_DIR=str(tmp_path / "spool"),
        THEREYET_CONFIG=str(config),
        **extra,
    )
    return env
