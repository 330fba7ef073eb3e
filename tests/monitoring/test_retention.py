"""Retention: each job keeps its newest runs (THEREYET_KEEP_RUNS); the pruner removes
older finished runs with their events, a slice at a time, then rests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.monitoring.conftest import HandHub, open_hand_hub
from thereyet.server.clock import FakeClock
from thereyet.server.services.retention import REST
from thereyet.server.workers.pruner import Pruner


@pytest.fixture
def small_hub(db_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[HandHub]:
    for hand_hub in open_hand_hub(db_url, tmp_path, clock, keep_runs=5):
        # The worker loop may have ticked once at start, before it was stopped: finding
        # no job, the pruner then rests. Every test starts after that rest.
        clock.advance(REST.total_seconds())
        yield hand_hub


def prune(hand_hub: HandHub) -> bool:
    return bool(hand_hub.call(Pruner(hand_hub.app.state.retention).tick, hand_hub.clock.now()))


def runs(hand_hub: HandHub) -> list[dict]:
    found = hand_hub.client.get("/api/v1/runs", params={"job": "backup", "limit": 100})
    return list(found.json()["runs"])


def logs(hand_hub: HandHub, run_id: str) -> list[str]:
    events = hand_hub.client.get(f"/api/v1/runs/{run_id}/events").json()["events"]
    return [e["text"] for e in events if e["type"] == "log"]


def pings(hand_hub: HandHub, url: str, count: int, first: int = 0) -> None:
    for n in range(first, first + count):
        hand_hub.clock.advance(60)
        assert hand_hub.client.post(url, content=f"line {n}").status_code == 200


def test_a_job_keeps_its_newest_runs_and_the_pruner_removes_the_rest(small_hub: HandHub):
    url = small_hub.put_schedule("backup", room="ops")["ping_url"]
    pings(small_hub, url, 12)
    oldest = runs(small_hub)[-1]["id"]
    assert prune(small_hub) is True
    kept = runs(small_hub)
    assert [logs(small_hub, r["id"]) for r in kept] == [[f"line {n}"] for n in range(11, 6, -1)]
    assert small_hub.client.get(f"/api/v1/runs/{oldest}/events").status_code == 404


def test_the_pruner_rests_after_a_pass_over_every_job(small_hub: HandHub):
    url = small_hub.put_schedule("backup")["ping_url"]
    pings(small_hub, url, 8)
    assert prune(small_hub) is True
    assert prune(small_hub) is False  # the pass is over
    pings(small_hub, url, 3, first=8)
    assert prune(small_hub) is False  # resting
    assert len(runs(small_hub)) == 8
    small_hub.clock.advance(REST.total_seconds())
    assert prune(small_hub) is True
    assert len(runs(small_hub)) == 5


def test_unfinished_runs_are_never_pruned(small_hub: HandHub):
    url = small_hub.put_schedule("backup")["ping_url"]
    rid = "0b5e1b3e-9a8e-4f27-9a55-6b4f5a8f1c2d"
    assert small_hub.client.get(f"{url}/start?rid={rid}").status_code == 200
    pings(small_hub, url, 10)
    prune(small_hub)
    kept = runs(small_hub)
    assert len(kept) == 6
    assert kept[-1]["status"] == "running"


def test_keep_runs_zero_keeps_everything(db_url: str, tmp_path: Path, clock: FakeClock):
    for hand_hub in open_hand_hub(db_url, tmp_path, clock, keep_runs=0):
        url = hand_hub.put_schedule("backup")["ping_url"]
        pings(hand_hub, url, 7)
        assert prune(hand_hub) is False
        assert len(runs(hand_hub)) == 7


def test_a_job_keeps_its_newest_job_events(small_hub: HandHub):
    url = small_hub.put_schedule("backup")["ping_url"]
    for n in range(8):  # log lines of a check with no run yet are job events
        small_hub.clock.advance(60)
        assert small_hub.client.post(f"{url}/log", content=f"note {n}").status_code == 200
    assert prune(small_hub) is True
    events = small_hub.client.get("/api/v1/jobs/backup/schedule").json()["events"]
    assert [e["text"] for e in events] == [f"note {n}" for n in range(3, 8)]
