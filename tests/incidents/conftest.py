"""An on-call setup on a hand-ticked hub: two people, a rotation, a policy, a service."""

from __future__ import annotations

from typing import Any

import pytest

from tests.monitoring.conftest import HandHub, Recorder, any_hand_hub, hand_hub, recorder
from thereyet.server.workers.escalator import Escalator

__all__ = ["any_hand_hub", "any_oncall", "hand_hub", "recorder"]


def escalate(hand_hub: HandHub) -> bool:
    return bool(hand_hub.call(Escalator(hand_hub.app.state.incidents).tick, hand_hub.clock.now()))


def put(hand_hub: HandHub, path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = hand_hub.client.put(f"/api/v1/oncall/{path}", json=body)
    assert response.status_code == status, response.text
    return response.json()


def setup_oncall(hand_hub: HandHub, recorder: Recorder, **service: Any) -> None:
    """ana and bo (a weekly rotation from Monday 2 March 2026), boss as the second step."""
    for name, tz in (("ana", "Europe/Paris"), ("bo", "America/New_York"), ("boss", "UTC")):
        put(
            hand_hub,
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
        hand_hub,
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
        hand_hub,
        "policies/default",
        {
            "steps": [
                {"targets": [{"kind": "rotation", "name": "primary"}], "delay_minutes": 15},
                {"targets": [{"kind": "person", "name": "boss"}], "delay_minutes": 30},
            ],
            "repeat": 1,
        },
    )
    put(hand_hub, "services/payments", {"room": "ops", "policy": "default", **service})


def integration(hand_hub: HandHub, kind: str, name: str = "") -> str:
    response = hand_hub.client.post(
        "/api/v1/oncall/integrations",
        json={"name": name or kind, "service": "payments", "kind": kind},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def paths(recorder: Recorder) -> list[str]:
    return [r["path"] for r in recorder.requests]


@pytest.fixture
def oncall(hand_hub: HandHub, recorder: Recorder) -> HandHub:
    # The fake clock starts on Monday 2 March 2026 at 09:00 UTC (10:00 in Paris): ana's week.
    setup_oncall(hand_hub, recorder)
    return hand_hub


@pytest.fixture
def any_oncall(any_hand_hub: HandHub, recorder: Recorder) -> HandHub:
    """The same on SQLite and on PostgreSQL."""
    setup_oncall(any_hand_hub, recorder)
    return any_hand_hub
