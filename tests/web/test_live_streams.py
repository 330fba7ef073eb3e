"""The live streams behind the pages: one run's stream, and the dashboard's filters
(on the page and on its stream)."""

from __future__ import annotations

import httpx
import pytest

from tests.web.conftest import read_events, sign_in


@pytest.fixture
def browser_like(web_hub):
    with httpx.Client(base_url=web_hub.url, headers={"Accept": "text/html"}) as client:
        sign_in(client, "ana")
        yield client


def _start(api: httpx.Client, job: str, room: str = "ops") -> str:
    return str(api.post("/api/v1/runs", json={"job": job, "room": room, "total": 10}).json()["id"])


def _progress(api: httpx.Client, run_id: str, done: int) -> None:
    event = {"id": f"p{done}", "type": "progress", "done": done}
    answer = api.post(f"/api/v1/runs/{run_id}/events", json={"events": [event]})
    assert answer.status_code == 200, answer.text


def test_a_runs_stream_sends_its_view_then_only_its_own_changes(web_hub, browser_like):
    watched, other = _start(web_hub.api, "export"), _start(web_hub.api, "import")
    with browser_like.stream("GET", f"/live/run/{watched}", timeout=10) as stream:
        _progress(web_hub.api, other, 9)
        _progress(web_hub.api, watched, 4)
        (first, [snapshot]), (second, [change]) = read_events(stream, 2)
    assert (first, second) == ("run", "run")
    assert snapshot["id"] == change["id"] == watched
    assert change["progress"]["done"] == 4


def test_the_stream_of_an_unknown_run_is_404(browser_like):
    assert browser_like.get("/live/run/no-such-run").status_code == 404


def test_the_dashboard_filters_by_job_and_by_room(web_hub, browser_like):
    export, other_job = _start(web_hub.api, "export"), _start(web_hub.api, "import")
    in_lab = _start(web_hub.api, "export", room="lab")
    by_job = browser_like.get("/", params={"job": "export"}).text
    assert f"/runs/{export}" in by_job and f"/runs/{in_lab}" in by_job
    assert f"/runs/{other_job}" not in by_job
    by_room = browser_like.get("/", params={"room": "lab"}).text
    assert f"/runs/{in_lab}" in by_room and f"/runs/{export}" not in by_room


def test_the_filtered_dashboard_stream_leaves_other_jobs_out(web_hub, browser_like):
    export, other_job = _start(web_hub.api, "export"), _start(web_hub.api, "import")
    with browser_like.stream("GET", "/live/runs", params={"job": "export"}, timeout=10) as stream:
        _progress(web_hub.api, other_job, 9)
        _progress(web_hub.api, export, 3)
        (_, snapshot), (_, change) = read_events(stream, 2)
    assert [r["id"] for r in snapshot] == [export]
    assert [r["id"] for r in change] == [export]
