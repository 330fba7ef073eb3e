"""A job's catch-up policy through the API: set, shown, applied after a hub was down,
and refused with the field named when it is wrong."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.monitoring.conftest import HandHub, Recorder, hand_hub, recorder

__all__ = ["hand_hub", "recorder"]


def league(hand_hub: HandHub, recorder: Recorder, **extra: object) -> dict:
    target = {"kind": "http", "url": f"http://{recorder.url}/play"}
    return hand_hub.put_schedule(
        "league-matches", schedule="every 1m", target=target, room="league", **extra
    )


def test_the_default_is_latest_and_the_skipped_occurrences_are_told_in_the_room(
    hand_hub: HandHub, recorder: Recorder
):
    assert league(hand_hub, recorder)["catch_up"] == {"policy": "latest", "limit": 10}
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 5, 10, tzinfo=UTC))  # the hub was down since 9:00
    hand_hub.schedule()
    assert len(hand_hub.client.get("/api/v1/runs").json()["runs"]) == 1
    view = hand_hub.client.get("/api/v1/jobs/league-matches/schedule").json()
    [skipped] = [e for e in view["events"] if e["kind"] == "skipped"]
    assert (skipped["count"], skipped["first"], skipped["last"]) == (
        4,
        "2026-03-02T09:01:00Z",
        "2026-03-02T09:04:00Z",
    )
    assert hand_hub.room("league")[-1] == (
        "**league-matches**: 4 occurrences were not started, from 2026-03-02T09:01:00Z "
        "to 2026-03-02T09:04:00Z: no hub was running then (catch-up: latest)"
    )


def test_all_starts_the_last_few_missed_occurrences_oldest_first_each_called_once(
    hand_hub: HandHub, recorder: Recorder
):
    view = league(hand_hub, recorder, catch_up="all", catch_up_limit=3)
    assert view["catch_up"] == {"policy": "all", "limit": 3}
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 5, 10, tzinfo=UTC))
    hand_hub.schedule()
    while hand_hub.dispatch():
        pass
    called = [r["json"]["due_at"] for r in recorder.requests]
    assert called == ["2026-03-02T09:03:00Z", "2026-03-02T09:04:00Z", "2026-03-02T09:05:00Z"]
    keys = {r["headers"]["Idempotency-Key"] for r in recorder.requests}
    assert len(keys) == 3


def test_none_starts_nothing_missed_and_the_next_occurrence_on_time(
    hand_hub: HandHub, recorder: Recorder
):
    league(hand_hub, recorder, catch_up="none")
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 5, 30, tzinfo=UTC))
    hand_hub.schedule()
    assert hand_hub.client.get("/api/v1/runs").json()["runs"] == []
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 5, 58, tzinfo=UTC))
    hand_hub.schedule()
    [run] = hand_hub.client.get("/api/v1/runs").json()["runs"]
    assert run["status"] == "queued"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"catch_up": "sometimes"}, "catch_up"), ({"catch_up_limit": 0}, "catch_up_limit")],
)
def test_a_bad_catch_up_is_refused_naming_the_field(hand_hub: HandHub, body: dict, field: str):
    response = hand_hub.client.put("/api/v1/jobs/league-matches/schedule", json=body)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert hand_hub.client.get("/api/v1/jobs/league-matches/schedule").status_code == 404
