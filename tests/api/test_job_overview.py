"""Every job at a glance (what /jobs lists), on SQLite and PostgreSQL."""

from __future__ import annotations

from starlette.testclient import TestClient

from thereyet.server.clock import FakeClock
from thereyet.server.domain.access import Principal, Scope
from thereyet.server.services.job_overview import RECENT_RUNS

ADMIN = Principal(name="admin", scope=Scope.ADMIN)


def _run(client: TestClient, clock: FakeClock, job: str, status: str, seconds: float) -> str:
    run = client.post("/api/v1/runs", json={"job": job, "room": "ops", "host": "db1"}).json()
    clock.advance(seconds)
    if status != "running":
        answer = client.post(f"/api/v1/runs/{run['id']}/finish", json={"status": status})
        assert answer.status_code == 200, answer.text
    clock.advance(60)
    return str(run["id"])


def _overview(client: TestClient, who: Principal = ADMIN) -> dict[str, dict]:
    return {j["name"]: j for j in client.app.state.jobs.overview(who)}  # type: ignore[attr-defined]


def test_a_job_shows_its_last_run_with_duration_and_host_and_its_record_oldest_first(client, clock):
    _run(client, clock, "backup", "succeeded", 90)
    last = _run(client, clock, "backup", "failed", 30)
    backup = _overview(client)["backup"]
    assert backup["state"] == "failed" and backup["attention"] is True
    assert backup["last_run"]["id"] == last
    assert backup["last_run"]["seconds"] == 30 and backup["last_run"]["host"] == "db1"
    assert backup["recent"] == ["succeeded", "failed"]
    assert backup["run_count"] == 2


def test_a_running_run_makes_the_job_running_with_no_duration_yet(client, clock):
    _run(client, clock, "export", "succeeded", 10)
    _run(client, clock, "export", "running", 5)
    export = _overview(client)["export"]
    assert export["state"] == "running" and export["last_run"]["seconds"] is None
    assert export["recent"] == ["succeeded", "running"]


def test_only_the_latest_runs_make_the_sparkline(client, clock):
    for i in range(RECENT_RUNS + 3):
        _run(client, clock, "ticks", "failed" if i < 3 else "succeeded", 1)
    ticks = _overview(client)["ticks"]
    assert ticks["recent"] == ["succeeded"] * RECENT_RUNS  # the 3 failed ones are older
    assert ticks["run_count"] == RECENT_RUNS + 3 and ticks["state"] == "ok"


def test_a_scheduled_job_shows_its_schedule_and_next_due_time(client, clock):
    answer = client.put(
        "/api/v1/jobs/nightly/schedule", json={"schedule": "0 3 * * *", "timezone": "UTC"}
    )
    assert answer.status_code == 200, answer.text
    nightly = _overview(client)["nightly"]
    assert nightly["schedule"] == "0 3 * * *" and nightly["due_at"] == "2026-03-03T03:00:00Z"
    assert nightly["state"] == "new" and nightly["last_run"] is None and nightly["recent"] == []


def test_a_limited_token_sees_only_the_jobs_it_names(client, clock):
    _run(client, clock, "backup", "succeeded", 1)
    _run(client, clock, "export", "succeeded", 1)
    limited = Principal(name="ci", scope=Scope.INGEST, jobs=frozenset({"backup"}))
    assert list(_overview(client, limited)) == ["backup"]
