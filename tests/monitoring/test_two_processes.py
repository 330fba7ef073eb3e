"""Two real hub processes on one PostgreSQL database, real clocks, the same schedules:
no occurrence is started twice, none is skipped, and each run records its node."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, _empty_pg
from tests.monitoring.conftest import Recorder
from tests.servers import free_port, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
JOBS = 6
EVERY = 2  # seconds
OCCURRENCES = 4  # each routine's occurrences to see (no fixed wait: until they came)


def start_hub(db: str, data_dir: Path, node: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "THEREYET_ADMIN_TOKEN": ADMIN_TOKEN, "THEREYET_NODE": node}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "thereyet.cli.main",
            "server",
            "--db",
            db,
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, f"hub {node} exited at start"
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"hub {node} did not start"
        time.sleep(0.1)


def test_two_hub_processes_start_each_occurrence_exactly_once(
    pg_database: str, tmp_path: Path, recorder: Recorder
):
    _empty_pg(pg_database)
    hubs = []
    try:
        hubs.append(start_hub(pg_database, tmp_path / "a", "node-a"))
        hubs.append(start_hub(pg_database, tmp_path / "b", "node-b"))
        api = httpx.Client(
            base_url=hubs[0][1], timeout=10, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        target = {"kind": "http", "url": f"http://{recorder.url}/start"}
        for n in range(JOBS):
            response = api.put(
                f"/api/v1/jobs/routine-{n}/schedule",
                json={"schedule": f"every {EVERY}s", "target": target},
            )
            assert response.status_code == 200, response.text

        def each_started_enough() -> bool:
            jobs = [r["json"]["job"] for r in list(recorder.requests)]
            return all(jobs.count(f"routine-{n}") >= OCCURRENCES for n in range(JOBS))

        wait_for(
            each_started_enough, timeout=120, what=f"{OCCURRENCES} occurrences of each routine"
        )
        runs = api.get("/api/v1/runs", params={"limit": 500}).json()["runs"]
        api.close()
    finally:
        for process, _url in hubs:
            process.terminate()
            process.wait(20)

    called: dict[str, list[datetime]] = defaultdict(list)
    for request in recorder.requests:
        body = request["json"]
        called[body["job"]].append(datetime.fromisoformat(body["due_at"].replace("Z", "+00:00")))
    assert set(called) == {f"routine-{n}" for n in range(JOBS)}
    for job, dues in called.items():
        dues.sort()
        assert len(dues) == len(set(dues)), f"{job}: an occurrence was started twice"
        gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(dues)}
        assert gaps == {float(EVERY)}, f"{job}: occurrences skipped or doubled: {dues}"
        assert len(dues) >= OCCURRENCES
    by_id = {r["id"]: r for r in runs}
    started = [request["json"]["run_id"] for request in recorder.requests]
    assert len(started) == len(set(started))
    assert {by_id[run_id]["node"] for run_id in started} <= {"node-a", "node-b"}
