"""A ping's status change does what a run's does: it reaches the notification routes that
ask for it and resolves its check's open incident, on both backends.

A group of pings reads whether there are routes and open incidents with its checks'
rows (store.pings.jobs_by_ping_uuids), and the status hooks go by that."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.incidents.conftest import any_hand_hub, any_oncall, put, recorder
from tests.monitoring.conftest import HandHub, Recorder
from tests.monitoring.test_notification_delivery import add_channel

__all__ = ["any_hand_hub", "any_oncall", "recorder"]


def ping_path(hub: HandHub, job: str) -> str:
    response = hub.client.put(f"/api/v1/jobs/{job}/schedule", json={"room": "ops"})
    assert response.status_code == 200, response.text
    return urlsplit(response.json()["ping_url"]).path


def ping(hub: HandHub, path: str) -> None:
    response = hub.client.get(path)
    assert response.status_code == 200, response.text


def test_a_pinged_checks_failure_and_success_reach_its_channel(
    any_hand_hub: HandHub, recorder: Recorder
):
    hub = any_hand_hub
    path = ping_path(hub, "backup")
    add_channel(hub, "hook", f"json://{recorder.url}/hook", events=["failed", "succeeded"])
    ping(hub, path + "/fail")
    ping(hub, path)
    hub.dispatch()
    assert [r["json"]["title"] for r in recorder.requests] == [
        "backup failed after 0s",
        "backup finished in 0s",
    ]


def test_a_pinged_checks_success_resolves_the_incident_its_failure_opened(any_oncall: HandHub):
    hub = any_oncall
    path = ping_path(hub, "billing")
    put(hub, "jobs/billing", {"service": "payments", "events": ["failed"]})
    ping(hub, path + "/fail")
    [incident] = hub.client.get("/api/v1/incidents").json()["incidents"]
    assert incident["status"] == "triggered"
    ping(hub, path)
    view = hub.client.get(f"/api/v1/incidents/{incident['id']}").json()
    assert view["status"] == "resolved" and view["resolved_by"] == "thereyet"
