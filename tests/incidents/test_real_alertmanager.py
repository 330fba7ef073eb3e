"""A real Prometheus Alertmanager pages through the hub with both of its senders.

Alertmanager runs on 127.0.0.1 with clustering off; its webhook_configs and its
pagerduty_configs both point at a hub served by uvicorn; the on-call person's
push contact is a local recorder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.incidents.conftest import setup_oncall
from tests.monitoring.conftest import Recorder
from tests.servers import ALERTMANAGER, missing, serve, start_alertmanager, wait_for
from thereyet.server.app import create_app

pytestmark = pytest.mark.slow


class _Api:
    """What setup_oncall needs of a hub: a client of its API."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client


@pytest.fixture
def served_hub(sqlite_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    with (
        serve(create_app(make_settings(sqlite_url, tmp_path))) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client,
    ):
        yield client


def _receivers(webhook: str, enqueue: str, key: str) -> str:
    return (
        f"    webhook_configs:\n      - url: {webhook}\n        send_resolved: true\n"
        f"    pagerduty_configs:\n      - url: {enqueue}\n        routing_key: {key}\n"
        "        send_resolved: true\n"
    )


def _integration(api: httpx.Client, name: str, kind: str) -> str:
    made = api.post(
        "/api/v1/oncall/integrations", json={"name": name, "service": "payments", "kind": kind}
    )
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


def test_alertmanager_opens_pages_and_resolves_through_webhook_and_pagerduty(
    served_hub: httpx.Client, recorder: Recorder, tmp_path: Path
):
    if not Path(ALERTMANAGER).exists():
        missing(f"{ALERTMANAGER} is not installed (scripts/test installs prometheus-alertmanager)")
    api = served_hub
    setup_oncall(_Api(api), recorder)  # type: ignore[arg-type]
    hook = _integration(api, "am-webhook", "alertmanager")
    pd_key = _integration(api, "am-pagerduty", "pagerduty")
    base = str(api.base_url).rstrip("/")
    receivers = _receivers(
        f"{base}/api/v1/alerts/{hook}/alertmanager", f"{base}/v2/enqueue", pd_key
    )
    proc, am_url = start_alertmanager(tmp_path, receivers)
    am = httpx.Client(base_url=am_url)
    try:
        wait_for(lambda: _ready(am))
        alert = {
            "labels": {"alertname": "DiskFull", "instance": "db-1"},
            "annotations": {"summary": "disk 99% full", "runbook_url": "https://wiki/disk"},
        }
        assert am.post("/api/v2/alerts", json=[alert]).status_code == 200

        def incidents() -> list[dict[str, Any]]:
            return list(api.get("/api/v1/incidents").json()["incidents"])

        found = wait_for(lambda: len(incidents()) == 2 and incidents())
        by_origin = {i["origin"]: i for i in found}
        webhook, pagerduty = by_origin["alertmanager"], by_origin["pagerduty"]
        assert webhook["dedup_key"].startswith("am:")
        assert webhook["runbook_url"] == "https://wiki/disk"
        # Alertmanager's PagerDuty sender keys its events by the SHA-256 of the group key.
        group_key = webhook["group_key"]
        assert pagerduty["dedup_key"] == hashlib.sha256(group_key.encode()).hexdigest()
        assert "DiskFull" in pagerduty["summary"]
        on_call = api.get("/api/v1/oncall/rotations/primary").json()["on_call"]
        wait_for(lambda: [r["path"] for r in recorder.requests].count(f"/{on_call}/push") == 2)

        alert["endsAt"] = datetime.now(UTC).isoformat()
        assert am.post("/api/v2/alerts", json=[alert]).status_code == 200
        wait_for(lambda: all(i["status"] == "resolved" for i in incidents()))
        timeline = api.get(f"/api/v1/incidents/{pagerduty['id']}").json()["timeline"]
        assert [e["kind"] for e in timeline][-1] == "resolved"
    finally:
        proc.terminate()
        proc.wait(10)
        am.close()


def _ready(am: httpx.Client) -> bool:
    try:
        return am.get("/-/ready").status_code == 200
    except httpx.HTTPError:
        return False
