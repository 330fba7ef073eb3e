"""A channel receives its notifications in the order they were written, one after the
other, even when one of them has to be retried; other channels are not held up."""

from __future__ import annotations

from tests.monitoring.conftest import HandHub, Recorder
from tests.monitoring.test_notification_delivery import add_channel


def finish(hand_hub: HandHub, job: str, status: str) -> None:
    run = hand_hub.client.post("/api/v1/runs", json={"job": job, "room": "ops"}).json()
    hand_hub.clock.advance(5)
    response = hand_hub.client.post(f"/api/v1/runs/{run['id']}/finish", json={"status": status})
    assert response.status_code == 200, response.text


def titles(recorder: Recorder, path: str) -> list[str]:
    return [
        r["json"]["title"] for r in recorder.requests if r["path"] == path and r["answered"] < 300
    ]


def test_a_channel_gets_its_notifications_in_the_order_they_were_written(
    hand_hub: HandHub, recorder: Recorder
):
    add_channel(
        hand_hub, "hook", f"json://{recorder.url}/hook", events=["started", "failed", "succeeded"]
    )
    finish(hand_hub, "backup", "failed")
    finish(hand_hub, "backup", "succeeded")
    hand_hub.dispatch()
    assert titles(recorder, "/hook") == [
        "backup started",
        "backup failed after 5s",
        "backup started",
        "backup finished in 5s",
    ]


def test_a_retried_notification_holds_up_only_the_later_ones_of_its_channel(
    hand_hub: HandHub, recorder: Recorder
):
    add_channel(hand_hub, "hook", f"json://{recorder.url}/hook", events=["failed", "succeeded"])
    finish(hand_hub, "backup", "failed")
    finish(hand_hub, "backup", "succeeded")
    recorder.status = 500
    hand_hub.dispatch()
    assert len(recorder.requests) == 1  # the later row waits for the refused one
    add_channel(hand_hub, "other", f"json://{recorder.url}/other", events=["failed"])
    recorder.status = 200
    finish(hand_hub, "export", "failed")
    hand_hub.dispatch()  # the hook's first row is not due again yet; the new channel is served
    assert titles(recorder, "/other") == ["export failed after 5s"]
    assert titles(recorder, "/hook") == []
    hand_hub.clock.advance(10)
    hand_hub.dispatch()
    assert titles(recorder, "/hook") == [
        "backup failed after 5s",
        "backup finished in 5s",
        "export failed after 5s",
    ]
