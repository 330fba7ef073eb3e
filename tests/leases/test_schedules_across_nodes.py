"""Routines every second (20 in the issue's run) on two real hub nodes on PostgreSQL; one node is killed a
third of the way through and started again at two thirds. No occurrence is skipped,
none is run twice, a repeated callback carries the same Idempotency-Key, and the
restarted node starts runs again (the time it took is printed).

The service called back reports each run finished through either node, as a real
one would, so both nodes ingest while their schedulers and monitors claim.

THEREYET_SOAK_SECONDS sets the length (default 45 s; the issue's run is 180) and
THEREYET_SOAK_JOBS the number of routines (default 10, so a loaded 2-core CI machine
keeps up; the issue's run is THEREYET_SOAK_JOBS=20 THEREYET_SOAK_SECONDS=180)."""

from __future__ import annotations

import itertools
import os
import statistics
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests.leases.hubs import call, nodes, scratch_databases
from tests.servers import HubProcess, Recorder, recording_server, wait_for
from thereyet.server.store.tables import jobs, outbox, runs

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.long]  # soaks of a minute or so
JOBS = int(os.environ.get("THEREYET_SOAK_JOBS", "10"))
SECONDS = float(os.environ.get("THEREYET_SOAK_SECONDS", "45"))


def deadlocks(db: str) -> int:
    """PostgreSQL's count of deadlocks detected in this database."""
    engine = create_engine(db)
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT deadlocks FROM pg_stat_database WHERE datname = :name"),
            {"name": make_url(db).database},
        ).scalar()
    engine.dispose()
    return int(found or 0)


def pending_calls(db: str) -> int:
    engine = create_engine(db)
    with engine.connect() as conn:
        query = select(func.count()).where(outbox.c.status == "pending")
        found = int(conn.execute(query).scalar() or 0)
    engine.dispose()
    return found


def started_occurrences(db: str) -> set[tuple[str, datetime]]:
    engine = create_engine(db)
    with engine.connect() as conn:
        query = select(jobs.c.name, runs.c.due_at).join(jobs, jobs.c.id == runs.c.job_id)
        found = {(job, due) for job, due in conn.execute(query.where(runs.c.due_at.is_not(None)))}
    engine.dispose()
    return found


def duplicate_runs(db: str) -> list[Any]:
    engine = create_engine(db)
    with engine.connect() as conn:
        found = list(
            conn.execute(
                text(
                    "SELECT job_id, due_at, count(*) FROM runs WHERE due_at IS NOT NULL "
                    "GROUP BY job_id, due_at HAVING count(*) > 1"
                )
            )
        )
    engine.dispose()
    return found


class Service:
    """What the hub calls: it records each call, then reports the run finished."""

    def __init__(self, recorder: Recorder, hubs: list[HubProcess]) -> None:
        self.hubs = hubs
        self.turn = itertools.count()
        self.pool = ThreadPoolExecutor(4)  # answers the call at once, reports after
        recorder.on_request = self.on_call

    def on_call(self, entry: dict[str, Any]) -> None:
        entry["received"] = time.time()
        self.pool.submit(self.finish, entry["json"])

    def finish(self, body: dict[str, Any]) -> None:
        for _ in range(len(self.hubs)):
            hub = self.hubs[next(self.turn) % len(self.hubs)]
            if not hub.running:
                continue
            try:
                httpx.post(
                    hub.url + body["finish_url"],
                    json={"status": "succeeded"},
                    headers={"Authorization": f"Bearer {body['token']}"},
                    timeout=10,
                )
                return
            except httpx.HTTPError:
                continue


def test_no_occurrence_is_skipped_or_run_twice_when_a_node_dies_and_comes_back(
    pg_database: str, tmp_path: Path
):
    with (
        recording_server() as recorder,
        scratch_databases(1) as (db,),
        nodes(db, tmp_path, "node-a", "node-b") as (a, b),
    ):
        a.start()
        b.start()
        Service(recorder, [a, b])
        target = {"kind": "http", "url": f"http://{recorder.url}/start"}
        for n in range(JOBS):
            body = {"schedule": "every 1s", "target": target}
            call(b, "PUT", f"/api/v1/jobs/routine-{n}/schedule", json=body)
        began = datetime.now(UTC)
        before = deadlocks(db)
        time.sleep(SECONDS / 3)
        a.kill()
        killed = datetime.now(UTC)
        time.sleep(SECONDS / 3)
        restarted = datetime.now(UTC)
        a.start()
        answering = datetime.now(UTC)
        time.sleep(SECONDS / 3)
        for n in range(JOBS):
            call(b, "PUT", f"/api/v1/jobs/routine-{n}/schedule", json={"schedule": ""})
        wait_for(lambda: not pending_calls(db), timeout=180, every=0.5)  # the last calls arrive
        a.stop()
        b.stop()
        time.sleep(1)  # statistics reach pg_stat_database
        after = deadlocks(db)
        twice = duplicate_runs(db)
        started = started_occurrences(db)
        # The restarted node's first run (the other node's scheduler wins some of them).
        first_after = _first_run_after(db, "node-a", restarted)

    calls: dict[tuple[str, datetime], list[dict[str, Any]]] = defaultdict(list)
    for request in recorder.requests:
        body = request["json"]
        calls[(body["job"], datetime.fromisoformat(body["due_at"]))].append(request)
    # Per job, every second from the first occurrence after the set-up to the last one
    # started before the schedules were removed (the scheduler may lag the clock).
    for job in _jobs():
        dues = sorted(at for name, at in started if name == job and at >= began)
        assert dues and dues[-1] >= restarted, f"{job}: stopped at {dues[-1:]}"
        gaps = [(x, y) for x, y in itertools.pairwise(dues) if (y - x).total_seconds() != 1]
        assert not gaps, f"{job}: occurrences skipped between {gaps[:3]}"
        uncalled = [at for at in dues if (job, at) not in calls]
        assert not uncalled, f"{job}: {len(uncalled)} occurrences not called back"
    assert not twice, f"runs created twice: {twice[:5]}"
    repeats = {key: reqs for key, reqs in calls.items() if len(reqs) > 1}
    for key, reqs in repeats.items():
        assert len({r["headers"]["Idempotency-Key"] for r in reqs}) == 1, key
        assert len(reqs) == 2, key
    lateness = sorted(
        r["received"] - at.timestamp() for (_, at), reqs in calls.items() for r in reqs[:1]
    )
    p99 = lateness[int(len(lateness) * 0.99)]
    assert first_after is not None
    print(
        f"\nsoak: {SECONDS:.0f} s, {JOBS} jobs every 1 s, {len(calls)} occurrences called, "
        f"{len(repeats)} repeated (same key) after the kill at {killed:%T}; "
        f"lateness p50 {statistics.median(lateness):.3f} s p99 {p99:.3f} s; "
        f"restarted node's first run {(first_after - restarted).total_seconds():.2f} s after "
        f"it was started ({(answering - restarted).total_seconds():.2f} s to answer); "
        f"deadlocks {before} -> {after}; load {os.getloadavg()[0]:.1f}"
    )
    # Not asserted here: two nodes ingesting finishes of the same runs in one group
    # commit each can still lock runs in opposite orders; the writer makes the change
    # chosen as victim again (store/writer.py). The workers' claims are checked by the
    # test below, where nothing else writes.


def _jobs() -> list[str]:
    return [f"routine-{n}" for n in range(JOBS)]


def _first_run_after(db: str, node: str, since: datetime) -> datetime | None:
    engine = create_engine(db)
    with engine.connect() as conn:
        query = select(func.min(runs.c.created_at)).where(
            runs.c.node == node, runs.c.created_at >= since
        )
        found: datetime | None = conn.execute(query).scalar()
    engine.dispose()
    return found


def test_two_nodes_running_100_routines_never_deadlock(pg_database: str, tmp_path: Path):
    """Both nodes' schedulers, monitors, escalators and dispatchers claim the same rows
    (runs started, late, missed; their cards and notifications): PostgreSQL detects no
    deadlock. (The soak above adds both nodes ingesting the runs' finishes.)"""
    seconds = float(os.environ.get("THEREYET_DEADLOCK_SECONDS", "30"))
    with (
        recording_server() as recorder,
        scratch_databases(1) as (db,),
        nodes(db, tmp_path, "node-a", "node-b") as (a, b),
    ):
        a.start()
        b.start()
        target = {"kind": "http", "url": f"http://{recorder.url}/start"}
        limits = {"grace": "2s", "start_deadline": "10s"}
        for n in range(100):
            body = {"schedule": "every 10s", "target": target, "limits": limits, "room": "ops"}
            call(a if n % 2 else b, "PUT", f"/api/v1/jobs/job-{n}/schedule", json=body)
        before = deadlocks(db)
        time.sleep(seconds)
        a.stop()
        b.stop()
        time.sleep(1)  # statistics reach pg_stat_database
        after = deadlocks(db)
        called = len(recorder.requests)
    print(
        f"\n100 routines on 2 nodes for {seconds:.0f} s: {called} calls; deadlocks {before} -> {after}"
    )
    assert called >= 100
    assert after == before
