"""A ping costs the same whatever its check's history: nothing on its path walks past runs.

Measured without timing: SQLite counts the virtual-machine steps of every
statement the writer runs (a progress handler), and the query plans of the
look-ups are read. A check with thousands of past runs takes the same steps
per ping as a fresh one; without ix_runs_job_status it would not.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, event, insert
from starlette.testclient import TestClient

from thereyet.server.clock import FakeClock
from thereyet.server.store import monitoring as monitoring_store
from thereyet.server.store import pings as ping_store
from thereyet.server.store import runs as run_store
from thereyet.server.store.tables import metadata, runs
from thereyet.server.store.writer import Tx

PAST_RUNS = 3000


class Steps:
    """Counts SQLite VM steps on the writer's connection (which it keeps between groups)."""

    def __init__(self, client: TestClient) -> None:
        self.count = 0
        self.client = client
        state: Any = client.app.state  # type: ignore[attr-defined]
        assert client.portal is not None
        # Only pings in the writer while counting: the background workers are stopped.
        client.portal.call(state.timely_workers.stop)
        client.portal.call(state.workers.stop)

        def install(tx: Tx) -> None:
            driver = tx.conn.connection.driver_connection
            driver.set_progress_handler(self._step, 1)

        state.hub.writer.run_sync(install)

    def _step(self) -> int:
        self.count += 1
        return 0

    def of(self, url: str) -> int:
        before = self.count
        assert self.client.get(url).status_code == 200
        return self.count - before


def _check(client: TestClient, name: str) -> tuple[str, int]:
    url = client.put(f"/api/v1/jobs/{name}/schedule", json={}).json()["ping_url"]
    job_id = client.app.state.hub.writer.run_sync(  # type: ignore[attr-defined]
        lambda tx: monitoring_store.job_row(tx.conn, name).id
    )
    return url, job_id


def _give_history(client: TestClient, job_id: int, count: int, clock: FakeClock) -> None:
    start = clock.now() - timedelta(days=10)

    def write(tx: Tx) -> None:
        rows = [
            {
                "id": uuid.uuid4().hex,
                "job_id": job_id,
                "status": "succeeded",
                "created_at": start + timedelta(minutes=n),
                "updated_at": start + timedelta(minutes=n),
                "trigger": "ping",
                "started_at": start + timedelta(minutes=n),
                "finished_at": start + timedelta(minutes=n, seconds=3),
                "stats": {},
                "log_tail": [],
            }
            for n in range(count)
        ]
        tx.conn.execute(insert(runs), rows)

    client.app.state.hub.writer.run_sync(write)  # type: ignore[attr-defined]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_ping_takes_the_same_steps_with_thousands_of_past_runs(client, clock: FakeClock):
    fresh, _ = _check(client, "fresh")
    old, old_id = _check(client, "old")
    _give_history(client, old_id, PAST_RUNS, clock)
    steps = Steps(client)
    for url in (fresh, old):  # once each first: what is read once and kept
        steps.of(url)
        steps.of(f"{url}/start")
        steps.of(url)
    clock.advance(1)
    assert steps.of(old) <= steps.of(fresh) * 1.1
    assert steps.of(f"{old}/start") <= steps.of(f"{fresh}/start") * 1.1
    assert steps.of(old) <= steps.of(fresh) * 1.1  # the end of a started run


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_step_count_would_notice_a_walk_through_the_history(client, clock: FakeClock):
    """The measure above can fail: without the indexes that find unfinished runs, the
    open run is looked for in every past run of the check."""
    fresh, _ = _check(client, "fresh")
    old, old_id = _check(client, "old")
    _give_history(client, old_id, PAST_RUNS, clock)

    def drop(tx: Tx) -> None:
        tx.conn.exec_driver_sql("DROP INDEX ix_runs_job_status")
        tx.conn.exec_driver_sql("DROP INDEX ix_runs_status")

    client.app.state.hub.writer.run_sync(drop)  # type: ignore[attr-defined]
    steps = Steps(client)
    for url in (fresh, old):
        steps.of(url)
    assert steps.of(old) > steps.of(fresh) * 3


def _plans(statements: list[tuple[str, Any]], engine: Any) -> list[str]:
    with engine.connect() as conn:
        return [
            " ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + s, p))
            for s, p in statements
        ]


def test_the_open_run_and_recent_durations_are_found_through_the_jobs_status_index(
    tmp_path, clock: FakeClock
):
    engine = create_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    metadata.create_all(engine)
    seen: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def note(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if not statement.startswith("EXPLAIN"):
            seen.append((statement, params))

    with engine.connect() as conn:
        monitoring_store.open_ping_run(conn, 1, None)
        monitoring_store.open_ping_run(conn, 1, str(uuid.uuid4()))
        ping_store.jobs_by_ping_uuids(conn, [str(uuid.uuid4())])
        run_store.recent_durations(conn, "a", before=clock.now())
    plans = _plans(seen, engine)
    assert len(plans) == 4
    for plan in plans:
        assert "USING INDEX ix_runs_job_status" in plan, plan
