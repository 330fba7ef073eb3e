"""`!oncall`, `!ack` and `!resolve` typed in a room act on incidents with the caller's rights."""

from __future__ import annotations

import time

from tests.incidents.conftest import integration
from tests.incidents.test_pagerduty import event
from tests.monitoring.conftest import HandHub, Recorder


def say_and_wait(hand_hub: HandHub, text: str, expect: str) -> str:
    """Post `text` in #ops and return the first later message containing `expect`."""
    posted = hand_hub.client.post("/api/v1/rooms/ops/messages", json={"text": text})
    assert posted.status_code == 201, posted.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = hand_hub.client.get(
            "/api/v1/rooms/ops/messages", params={"after": posted.json()["id"]}
        )
        for message in found.json()["messages"]:
            if expect in message["text"]:
                return str(message["text"])
        time.sleep(0.05)
    raise AssertionError(f"no answer containing {expect!r} to {text!r}")


def test_oncall_ack_and_resolve_from_the_room(oncall: HandHub, recorder: Recorder):
    key = integration(oncall, "pagerduty")
    assert oncall.client.post("/v2/enqueue", json=event(key)).status_code == 202
    [incident] = oncall.client.get("/api/v1/incidents").json()["incidents"]
    number = incident["id"]

    oncall.dispatch()
    assert "primary: ana" in say_and_wait(oncall, "!oncall", "primary:")
    assert "acknowledged" in say_and_wait(oncall, f"!ack {number}", f"incident {number}")
    view = oncall.client.get(f"/api/v1/incidents/{number}").json()
    assert view["status"] == "acknowledged" and view["acknowledged_by"] == "admin"
    oncall.dispatch()  # ana, paged, is told who acknowledged
    told = [(r["path"], r["json"]["title"]) for r in recorder.requests[1:]]
    assert told == [("/ana/push", f"#{number} acknowledged by admin: DiskFull on db-1")]
    assert "resolved" in say_and_wait(oncall, f"!resolve {number}", f"incident {number} is res")
    assert oncall.client.get(f"/api/v1/incidents/{number}").json()["status"] == "resolved"
    help_text = say_and_wait(oncall, "!help", "Commands you may run here")
    assert "!ack" in help_text and "!oncall" in help_text
