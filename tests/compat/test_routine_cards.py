"""A check pinged every minute tells its room what changed, not every ping.

By default a run started by a ping gets a card only when it ends unlike the
check's previous run (the first run, a failure after successes, a recovery);
a job set to room_cards "all" gets every start and end, as other jobs do.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from thereyet.server.clock import FakeClock


@pytest.fixture
def check(client: TestClient) -> str:
    url: str = client.put("/api/v1/jobs/backup/schedule", json={"room": "ops"}).json()["ping_url"]
    return url


def cards(client: TestClient) -> list[str]:
    messages = client.get("/api/v1/rooms/ops/messages", params={"limit": 200}).json()["messages"]
    return [m["data"]["status"] for m in messages if m["kind"] == "run"]


def ping(client: TestClient, url: str, clock: FakeClock) -> None:
    clock.advance(60)
    assert client.get(url, headers={"Authorization": ""}).status_code == 200


def test_a_routine_room_shows_the_first_success_failures_and_recoveries_only(
    client, check, clock: FakeClock
):
    for suffix in ("", "", "", "/fail", "/fail", "", "", "/3"):
        ping(client, check + suffix, clock)
    assert cards(client) == ["succeeded", "failed", "succeeded", "failed"]
    runs = client.get("/api/v1/runs", params={"job": "backup", "limit": 50}).json()["runs"]
    assert len(runs) == 8  # the full history stays on the job's page


def test_a_started_check_shows_its_end_only_when_it_changed(client, check, clock: FakeClock):
    for suffix in ("/start", "", "/start", "", "/start", "/fail"):
        ping(client, check + suffix, clock)
    assert cards(client) == ["succeeded", "failed"]


def test_room_cards_all_shows_every_start_and_end(client, check, clock: FakeClock):
    response = client.patch("/api/v1/jobs/backup", json={"room_cards": "all"})
    assert (response.status_code, response.json()["room_cards"]) == (200, "all")
    ping(client, check, clock)
    ping(client, check, clock)
    assert cards(client) == ["running", "succeeded", "running", "succeeded"]
    response = client.patch("/api/v1/jobs/backup", json={"room_cards": None})
    assert response.json()["room_cards"] is None
    ping(client, check, clock)
    assert len(cards(client)) == 4


def test_room_cards_changes_folds_runs_reported_through_the_api(client, clock: FakeClock):
    client.post("/api/v1/jobs", json={"name": "sync", "room_cards": "changes"})
    for status in ("succeeded", "succeeded", "failed"):
        run = client.post("/api/v1/runs", json={"job": "sync", "room": "ops"}).json()
        clock.advance(5)
        client.post(f"/api/v1/runs/{run['id']}/finish", json={"status": status})
    assert cards(client) == ["succeeded", "failed"]


def test_a_run_reported_through_the_api_gets_every_card_by_default(client, clock: FakeClock):
    for _ in range(2):
        run = client.post("/api/v1/runs", json={"job": "export", "room": "ops"}).json()
        client.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "succeeded"})
    assert cards(client) == ["running", "succeeded", "running", "succeeded"]


def test_room_cards_must_be_all_or_changes(client, check):
    response = client.patch("/api/v1/jobs/backup", json={"room_cards": "sometimes"})
    assert response.status_code == 422
    assert "room_cards" in response.text
