"""Notifications carry Apprise's type (info, success, warning, failure), so Slack,
ntfy and Discord colour them: a page never looks like the news that a run started."""

from __future__ import annotations

import pytest

from tests.monitoring.conftest import HandHub, Recorder
from tests.monitoring.test_notification_delivery import add_channel
from thereyet.server.domain.notify_types import NotifyType, notify_type


def test_run_events_reach_a_json_channel_with_their_type(hand_hub: HandHub, recorder: Recorder):
    events = ["started", "succeeded", "failed", "cancelled"]
    add_channel(hand_hub, "hook", f"json://{recorder.url}/hook", events=events)
    for job, status in (("backup", "succeeded"), ("export", "failed"), ("sync", "cancelled")):
        run = hand_hub.client.post("/api/v1/runs", json={"job": job}).json()
        hand_hub.client.post(f"/api/v1/runs/{run['id']}/finish", json={"status": status})
    hand_hub.dispatch()
    got = sorted((r["json"]["title"], r["json"]["type"]) for r in recorder.requests)
    assert got == [
        ("backup finished in 0s", "success"),
        ("backup started", "info"),
        ("export failed after 0s", "failure"),
        ("export started", "info"),
        ("sync started", "info"),
        ("sync was cancelled after 0s", "warning"),
    ]


@pytest.mark.parametrize(
    ("event", "payload", "expected"),
    [
        ("failed", {}, NotifyType.FAILURE),
        ("missed", {}, NotifyType.FAILURE),
        ("lost", {}, NotifyType.FAILURE),
        ("overdue", {}, NotifyType.FAILURE),
        ("late", {}, NotifyType.WARNING),
        ("stalled", {}, NotifyType.WARNING),
        ("recovered", {}, NotifyType.SUCCESS),
        ("succeeded", {}, NotifyType.SUCCESS),
        ("started", {}, NotifyType.INFO),
        ("message", {"room": "ops"}, NotifyType.INFO),
        ("incident", {"incident_id": 4}, NotifyType.FAILURE),  # a page
        ("incident", {"incident_id": 4, "notice": "acknowledged"}, NotifyType.WARNING),
        ("incident", {"incident_id": 4, "notice": "resolved"}, NotifyType.SUCCESS),
    ],
)
def test_each_kind_of_notification_has_the_type_its_urgency_calls_for(event, payload, expected):
    assert notify_type(event, payload) is expected
