"""What the long fuzz run (scripts/fuzz_long.py) found, each pinned: input the OpenAPI
schema calls invalid was accepted (schemathesis's "schema-violating request accepted").

Times were read from numbers as Unix time (`?since=0.0`), and `false` was a duration
of 0 seconds; the schema says an ISO 8601 time, and a number or a text. Now each is a
422 naming the field, and what the schema allows still works.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

ROTATION = {"timezone": "UTC", "start_date": "2026-03-01", "participants": ["ana"]}


@pytest.fixture
def hub(client: TestClient) -> TestClient:
    """A hub with a run in room `ops`, a person on a rotation and a job `backup`."""
    assert client.post("/api/v1/runs", json={"job": "backup", "room": "ops"}).is_success
    assert client.put("/api/v1/oncall/people/ana", json={"timezone": "UTC"}).is_success
    assert client.put("/api/v1/oncall/rotations/r1", json=ROTATION).is_success
    return client


def refused_field(response: Any) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["field"])


@pytest.mark.parametrize("number", ["0.0", "8598861", "1e9", "-1"])
def test_a_number_is_not_a_time_in_a_query(hub: TestClient, number: str) -> None:
    assert refused_field(hub.get(f"/api/v1/runs?since={number}")).endswith("since")
    transcript = hub.get(f"/api/v1/rooms/ops/transcript?until={number}")
    assert refused_field(transcript).endswith("until")
    assert refused_field(hub.get(f"/api/v1/oncall/rotations/r1?at={number}")).endswith("at")


def test_iso_8601_times_are_still_taken(hub: TestClient) -> None:
    runs = hub.get("/api/v1/runs?since=2026-03-01T00:00:00Z&until=2026-03-03").json()["runs"]
    assert len(runs) == 1
    assert hub.get("/api/v1/rooms/ops/transcript?until=2026-03-03T00:00:00Z").status_code == 200
    at = hub.get("/api/v1/oncall/rotations/r1?at=2026-03-02T10:00:00%2B01:00")
    assert at.json()["on_call"] == "ana"


def test_a_number_is_not_a_start_time_of_a_run(hub: TestClient) -> None:
    made = hub.post("/api/v1/runs", json={"job": "backup", "started_at": 1_700_000_000})
    assert refused_field(made).endswith("started_at")


@pytest.mark.parametrize("flag", [False, True])
def test_a_boolean_is_not_a_duration(hub: TestClient, flag: bool) -> None:
    limits = {"start_deadline": 60, "stall_after": flag}
    response = hub.put("/api/v1/jobs/backup/schedule", json={"limits": limits})
    assert "stall_after" in refused_field(response)
    kept = hub.get("/api/v1/jobs/backup/schedule").json()["limits"]
    assert kept["start_deadline"] is None  # nothing of the refused request was written


def test_durations_in_seconds_or_text_are_still_taken(hub: TestClient) -> None:
    limits = {"grace": 90, "stall_after": "10m", "max_duration": 1.5}
    answer = hub.put("/api/v1/jobs/backup/schedule", json={"limits": limits}).json()
    assert answer["limits"]["grace"] == 90.0
    assert answer["limits"]["stall_after"] == 600.0
    assert answer["limits"]["max_duration"] == 1.5
