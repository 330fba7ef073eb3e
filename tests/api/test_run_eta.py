"""Every run's ETA through the hub: a range, predictions at 25/50/75 %, their score,
the job's accuracy, and a restart that loses none of it. SQLite and PostgreSQL."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock
from thereyet.server.config import Settings


def start(client: TestClient, job: str = "export", **extra: object) -> dict:
    response = client.post("/api/v1/runs", json={"job": job, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def report(client: TestClient, run_id: str, step: int, done: float) -> None:
    event = {"id": f"p{step}", "type": "progress", "done": done}
    response = client.post(f"/api/v1/runs/{run_id}/events", json={"events": [event]})
    assert response.status_code == 200, response.text


def steady_run(client: TestClient, clock: FakeClock, job: str, seconds: int) -> str:
    """A run of 1,000 units reported every 5 s at 1000/seconds a second, then succeeded."""
    run = start(client, job=job, total=1000)
    for step in range(1, seconds // 5 + 1):
        clock.advance(5)
        report(client, run["id"], step, min(1000.0, 1000.0 * step * 5 / seconds))
    finish = {"status": "succeeded"}
    assert client.post(f"/api/v1/runs/{run['id']}/finish", json=finish).status_code == 200
    return str(run["id"])


def test_a_running_runs_eta_is_a_range_around_its_estimate(client, clock: FakeClock):
    run = start(client, total=1000)
    for step in range(1, 11):
        clock.advance(5)
        report(client, run["id"], step, step * 25.0)  # 5 units a second
    eta = client.get(f"/api/v1/runs/{run['id']}").json()["eta"]
    assert eta["basis"] == "rate"
    assert abs(eta["seconds"] - 150) < 5
    assert eta["low"] < eta["seconds"] < eta["high"]
    assert eta["text"].startswith("about ") and eta["text"].endswith(" min left")
    assert eta["finish_at"] is not None


def test_a_run_records_its_eta_at_25_50_75_percent_and_is_scored_when_it_succeeds(
    client, clock: FakeClock
):
    for _ in range(3):
        steady_run(client, clock, "nightly", 200)
    run_id = steady_run(client, clock, "nightly", 220)
    predictions = client.get(f"/api/v1/runs/{run_id}").json()["eta_predictions"]
    assert [p["fraction"] for p in predictions] == [0.25, 0.5, 0.75]
    assert [p["elapsed"] for p in predictions] == [55.0, 110.0, 165.0]
    for p in predictions:
        assert p["actual"] == 220.0 - p["elapsed"]
        assert p["error"] is not None and p["error"] < 0.1
        assert p["held"] is True


def test_the_job_shows_its_eta_accuracy_over_recent_runs(client, clock: FakeClock):
    first = start(client, job="nightly", total=1000)
    clock.advance(10)
    client.post(f"/api/v1/runs/{first['id']}/finish", json={"status": "failed"})
    for seconds in (200, 200, 240):
        steady_run(client, clock, "nightly", seconds)
    accuracy = client.get("/api/v1/jobs/nightly").json()["eta_accuracy"]
    assert accuracy["runs"] == 3  # the failed run is not scored
    assert set(accuracy["by_checkpoint"]) == {"25%", "50%", "75%"}
    assert 0 <= accuracy["error"] < 0.2
    assert 0 <= accuracy["held"] <= 1
    newest = accuracy["recent"][0]
    assert newest["duration"] == 240.0
    assert set(newest["said"]) == {"25%", "50%", "75%"}


def test_a_job_without_scored_runs_says_so(client):
    start(client, job="fresh")
    accuracy = client.get("/api/v1/jobs/fresh").json()["eta_accuracy"]
    assert accuracy == {"runs": 0, "error": None, "by_checkpoint": {}, "held": None, "recent": []}


def test_a_restarted_hub_keeps_each_runs_eta_and_its_predictions(
    client, clock: FakeClock, settings: Settings
):
    for _ in range(3):
        steady_run(client, clock, "nightly", 200)
    run = start(client, job="nightly", total=1000)
    for step in range(1, 25):
        clock.advance(5)
        report(client, run["id"], step, step * 25.0)
    before = client.get(f"/api/v1/runs/{run['id']}").json()
    app = create_app(settings, clock)
    with TestClient(app, raise_server_exceptions=False) as restarted:
        restarted.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        after = restarted.get(f"/api/v1/runs/{run['id']}").json()
        assert after["eta"] == before["eta"]
        assert after["eta_predictions"] == before["eta_predictions"]
        assert [p["fraction"] for p in after["eta_predictions"]] == [0.25, 0.5]
        for step in range(25, 41):  # the run goes on, reporting to the restarted hub
            clock.advance(5)
            report(restarted, run["id"], step, step * 25.0)
        finish = {"status": "succeeded"}
        restarted.post(f"/api/v1/runs/{run['id']}/finish", json=finish)
        done = restarted.get(f"/api/v1/runs/{run['id']}").json()["eta_predictions"]
    assert [p["fraction"] for p in done] == [0.25, 0.5, 0.75]
    assert all(p["error"] is not None and p["error"] < 0.1 for p in done)
