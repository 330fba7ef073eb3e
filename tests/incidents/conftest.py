"""An on-call setup on a hand-ticked hub: two people, a rotation, a policy, a service."""

from __future__ import annotations

from typing import Any

import pytest

from tests.monitoring.conftest import HandHub, Recorder, any_hub, hub, recorder
from thereyet.server.workers.escalator import Escalator

__all__ = ["any_hub", "any_oncall", "hub", "recorder"]


def escalate(hub: HandHub) -> bool:
    return bool(hub.call(Escalator(hub.app.state.incidents).tick, hub.clock.now()))


def put(hub: HandHub, path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = hub.client.put(f"/api/v1/oncall/{path}", json=body)
    assert response.status_code == status, response.text
    return response.json()


def setup_oncall(hub: HandHub, recorder: Recorder, **service: Any) -> None:
    """ana and bo (a weekly rotation from Monday 2 March 2026), boss as the second step."""
    for name, tz in (("ana", "Europe/Paris"), ("bo", "America/New_York"), ("boss", "UTC")):
        put(
            hub,
            f"people/{name}",
            {
                "timezone": tz,
                "contact_methods": [
                    {"name": "push", "url": f"json://{recorder.url}/{name}/push"},
                    {"name": "sms", "url": f"json://{recorder.url}/{name}/sms"},
                ],
                "rules": [
                    {"method": "push", "after_minutes": 0},
                    {"method": "sms", "after_minutes": 5},
                ],
            },
        )
    put(
        hub,
        "rotations/primary",
        {
            "timezone": "Europe/Paris",
            "start_date": "2026-03-02",
            "handoff": "09:00",
            "shift_hours": 168,
            "participants": ["ana", "bo"],
        },
    )
    put(
        hub,
        "policies/default",
        {
            "steps": [
                {"targets": [{"kind": "rotation", "name": "primary"}], "delay_minutes": 15},
                {"targets": [{"kind": "person", "name": "boss"}], "delay_minutes": 30},
            ],
            "repeat": 1,
        },
    )
    put(hub, "services/payments", {"room": "ops", "policy": "default", **service})


def integration(hub: HandHub, kind: str, name: str = "") -> str:
    response = hub.client.post(
        "/api/v1/oncall/integrations",
        json={"name": name or kind, "service": "payments", "kind": kind},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def paths(recorder: Recorder) -> list[str]:
    return [r["path"] for r in recorder.requests]


@pytest.fixture
def oncall(hub: HandHub, recorder: Recorder) -> HandHub:
    # The fake clock starts on Monday 2 March 2026 at 09:00 UTC (10:00 in Paris): ana's week.
    setup_oncall(hub, recorder)
    return hub


@pytest.fixture
def any_oncall(any_hub: HandHub, recorder: Recorder) -> HandHub:
    """The same on SQLite and on PostgreSQL."""
    setup_oncall(any_hub, recorder)
    return any_hub
