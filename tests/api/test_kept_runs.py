"""A hub keeps running runs in memory between reports; it must never trust a stale copy.

Two hubs on one database (as two nodes behind a load balancer would be), and a
change rolled back inside the writer, each leave the kept copy behind the row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.api.test_runs import progress, start
from tests.conftest import ADMIN_TOKEN, make_settings
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock
from thereyet.server.domain.access import SYSTEM
from thereyet.server.domain.events import Log, Progress
from thereyet.server.store.writer import Tx


@pytest.fixture
def second_hub(db_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    """Another hub process's app on the same database (its own writer and memory)."""
    settings = make_settings(db_url, tmp_path / "second", node="second-node")
    with TestClient(create_app(settings, clock)) as other:
        other.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield other


def test_reports_through_two_hubs_build_one_run(client, second_hub, clock):
    run = start(client, total=100)
    progress(client, run["id"], {"id": "a1", "type": "progress", "done": 10})
    clock.advance(1)
    progress(
        second_hub,
        run["id"],
        {"id": "b1", "type": "log", "text": "written through the second hub"},
        {"id": "b2", "type": "progress", "done": 20},
    )
    clock.advance(1)
    # The first hub still holds its copy from before the second hub's report.
    progress(client, run["id"], {"id": "a2", "type": "stat", "name": "rows", "value": 5})

    for hub in (client, second_hub):
        seen = hub.get(f"/api/v1/runs/{run['id']}").json()
        assert seen["progress"]["done"] == 20
        assert seen["log_tail"] == ["written through the second hub"]
        assert seen["stats"] == {"rows": 5}

    finished = client.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "succeeded"})
    assert finished.status_code == 200
    late = second_hub.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "failed"})
    assert late.status_code == 409  # the second hub sees the finish, not its old copy


def test_a_rolled_back_report_leaves_no_trace_in_the_next_one(client, clock):
    run = start(client, total=100)
    progress(client, run["id"], {"id": "p1", "type": "progress", "done": 10})
    app = client.app
    events = [
        Log(id="ghost-log", ts=clock.now(), text="never committed"),
        Progress(id="ghost-progress", ts=clock.now(), done=99),
    ]

    def report_then_fail(tx: Tx) -> None:
        app.state.runs.report_in(tx, SYSTEM, run["id"], events)  # type: ignore[attr-defined]
        raise RuntimeError("refused after the report")

    with pytest.raises(RuntimeError, match="refused after the report"):
        app.state.hub.writer.run_sync(report_then_fail)  # type: ignore[attr-defined]

    clock.advance(1)
    progress(client, run["id"], {"id": "p2", "type": "stat", "name": "rows", "value": 1})
    seen = client.get(f"/api/v1/runs/{run['id']}").json()
    assert seen["progress"]["done"] == 10
    assert seen["log_tail"] == []
    ids = [e["id"] for e in client.get(f"/api/v1/runs/{run['id']}/events").json()["events"]]
    assert "ghost-log" not in ids and "ghost-progress" not in ids


def test_a_repeated_single_event_is_counted_once(client):
    run = start(client, total=100)
    first = progress(client, run["id"], {"id": "p1", "type": "progress", "done": 10})
    again = progress(client, run["id"], {"id": "p1", "type": "progress", "done": 10})
    assert (first["accepted"], first["duplicates"]) == (1, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 1)
