"""Two hubs on one PostgreSQL database fire the same schedules: every occurrence is
started exactly once, by one node, and every transition is said once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.monitoring.conftest import HandHub, Recorder, open_hand_hub
from thereyet.server.clock import FakeClock

JOBS = 16
MINUTES = 3


@pytest.mark.postgres
def test_two_nodes_start_each_occurrence_once_and_say_each_transition_once(
    pg_database: str, tmp_path: Path, recorder: Recorder
):
    from tests.conftest import _empty_pg

    _empty_pg(pg_database)
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC))
    a_gen = open_hand_hub(pg_database, tmp_path / "a", clock, node="node-a")
    b_gen = open_hand_hub(pg_database, tmp_path / "b", clock, node="node-b")
    a, b = next(a_gen), next(b_gen)
    try:
        _run(a, b, clock, recorder)
    finally:
        for gen in (a_gen, b_gen):
            with pytest.raises(StopIteration):
                next(gen)


def both(pool: ThreadPoolExecutor, a: HandHub, b: HandHub, step: str) -> None:
    for future in [pool.submit(getattr(a, step)), pool.submit(getattr(b, step))]:
        future.result()


def _run(a: HandHub, b: HandHub, clock: FakeClock, recorder: Recorder) -> None:
    assert (
        a.client.post(
            "/api/v1/channels", json={"name": "hook", "url": f"json://{recorder.url}/hook"}
        ).status_code
        == 201
    )
    assert (
        a.client.post("/api/v1/routes", json={"channel": "hook", "events": ["late"]}).status_code
        == 201
    )
    target = {"kind": "http", "url": f"http://{recorder.url}/start"}
    for n in range(JOBS):
        hand_hub = a if n % 2 else b
        hand_hub.put_schedule(
            f"routine-{n:02d}", schedule="every 1m", target=target, limits={"grace": "10s"}
        )
    with ThreadPoolExecutor(4) as pool:
        for minute in range(1, MINUTES + 1):
            clock.set(datetime(2026, 3, 2, 9, minute, 0, 100000, tzinfo=UTC))
            both(pool, a, b, "schedule")
            both(pool, a, b, "dispatch")
            clock.advance(15)  # past the grace: nobody reported, every run is late
            both(pool, a, b, "monitor")
            both(pool, a, b, "dispatch")
        for _ in range(4):  # what is left in the outbox, by either node
            both(pool, a, b, "dispatch")

    runs = a.client.get("/api/v1/runs", params={"limit": 500}).json()["runs"]
    assert len(runs) == JOBS * MINUTES
    per_job = Counter(r["job"] for r in runs)
    assert set(per_job.values()) == {MINUTES}
    nodes = Counter(r["node"] for r in runs)
    assert set(nodes) <= {"node-a", "node-b"} and sum(nodes.values()) == JOBS * MINUTES
    starts = [r["json"]["run_id"] for r in recorder.requests if r["path"] == "/start"]
    assert sorted(starts) == sorted(r["id"] for r in runs)  # each called back once
    lates = [r["json"]["title"] for r in recorder.requests if r["path"] == "/hook"]
    assert len(lates) == JOBS * MINUTES and all(" is late" in t for t in lates)
    due = {(r["job"], r["created_at"][:16]) for r in runs}
    assert len(due) == JOBS * MINUTES  # one run per job per minute, none twice
    assert clock.now() - timedelta(minutes=MINUTES) < clock.now()
