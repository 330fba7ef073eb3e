"""`--demo` keeps simulated runs going: driven here tick by tick with a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.testclient import TestClient

from tests.conftest import make_settings
from thereyet.server.app import create_app
from thereyet.server.workers.demo import Demo


@contextmanager
def demo_hub(tmp_path, clock) -> Iterator[tuple[TestClient, Demo]]:
    """A hub (as admin) and a demo on it, ticked by hand."""
    settings = make_settings(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path)
    app = create_app(settings, clock)
    with TestClient(app) as client:
        client.headers["Authorization"] = "Bearer " + settings.admin_token
        yield client, Demo(app.state.runs, app.state.rooms, seed=7, schedules=app.state.schedules)


def test_the_demo_starts_progresses_finishes_and_fails_runs(tmp_path, clock):
    with demo_hub(tmp_path, clock) as (client, demo):

        def tick() -> None:
            assert client.portal is not None
            client.portal.call(demo.tick, clock.now())

        for _ in range(200):
            tick()
            clock.advance(1)
        runs = client.get("/api/v1/runs", params={"limit": 100}).json()["runs"]
        by_job: dict[str, list[str]] = {}
        for run in runs:
            by_job.setdefault(run["job"], []).append(run["status"])
        assert by_job["warehouse-migration"] == ["running"]
        assert "succeeded" in by_job["league-matches"]
        assert by_job["billing-sync"][-1] == "failed"
        migration = next(r for r in runs if r["job"] == "warehouse-migration")
        assert 0 < migration["progress"]["percent"] < 100
        assert migration["eta"]["seconds"] > 0
        room = client.get("/api/v1/rooms/demo/messages", params={"limit": 500}).json()["messages"]
        texts = [m["text"] for m in room]
        assert texts[0].startswith("Welcome")
        assert any("billing-sync** failed" in t and "exit 3" in t for t in texts)
        schedule = client.get("/api/v1/jobs/league-matches/schedule").json()
        assert schedule["schedule"] == "every 1m" and schedule["state"] != "late"


def test_the_demos_scheduled_job_shows_its_schedule_on_its_page(tmp_path, clock):
    with demo_hub(tmp_path, clock) as (client, demo):
        assert client.portal is not None
        client.portal.call(demo.tick, clock.now())
        view = client.get("/api/v1/jobs/league-matches/schedule").json()
        assert view["schedule"] == "every 1m"
        assert len(view["next"]) == 3 and view["next"][0] > clock.now().isoformat()[:19]
