"""The receiver an integration's answer gives, pasted as it is into a real Prometheus
Alertmanager, delivers: the alert opens an incident and the delivery is listed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.servers import ALERTMANAGER, missing, serve, start_alertmanager, wait_for
from thereyet.server.app import create_app

pytestmark = pytest.mark.slow
RECEIVER = "  - name: thereyet\n"


@pytest.fixture
def hub(sqlite_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    with (
        serve(create_app(make_settings(sqlite_url, tmp_path))) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api,
    ):
        assert api.put("/api/v1/oncall/public-url", json={"public_url": url}).is_success
        assert api.put("/api/v1/oncall/services/payments", json={}).is_success
        yield api


def pasted_receiver(example: str) -> str:
    """The receiver's body from the example's alertmanager.yml part, as a user copies it."""
    yaml = example.split("\n\n", 1)[0]
    return yaml.split(RECEIVER, 1)[1] + "\n"


def _delivered(api: httpx.Client, name: str) -> Any:
    found = api.get(f"/api/v1/integrations/{name}").json()["deliveries"]
    return [d for d in found if d["ok"]]


@pytest.mark.parametrize("kind", ["alertmanager", "pagerduty"])
def test_the_example_receiver_pasted_into_alertmanager_delivers(
    hub: httpx.Client, tmp_path: Path, kind: str
):
    if not Path(ALERTMANAGER).exists():
        missing(f"{ALERTMANAGER} is not installed (scripts/test installs prometheus-alertmanager)")
    made = hub.post(
        "/api/v1/integrations", json={"name": "prom", "kind": kind, "service": "payments"}
    )
    assert made.status_code == 201, made.text
    proc, am_url = start_alertmanager(tmp_path, pasted_receiver(made.json()["example"]))
    try:
        with httpx.Client(base_url=am_url) as am:
            wait_for(lambda: _ready(am), what="Alertmanager to start")
            alert = {"labels": {"alertname": "DiskFull"}, "annotations": {"summary": "97%"}}
            assert am.post("/api/v2/alerts", json=[alert]).status_code == 200
            [delivery] = wait_for(lambda: _delivered(hub, "prom"), what="the delivery")
        assert delivery["summary"] == "1 trigger"
        [incident] = hub.get("/api/v1/incidents").json()["incidents"]
        assert "DiskFull" in incident["summary"]  # PagerDuty's sender adds "[FIRING:1]"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _ready(am: httpx.Client) -> bool:
    try:
        return am.get("/-/ready").status_code == 200
    except httpx.TransportError:
        return False
