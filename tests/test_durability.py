"""A hub killed with SIGKILL mid-ingestion restarts with every acknowledged event.

This runs the real thing: `thereyet server` as a subprocess, clients posting
batches over HTTP from threads, kill -9 while requests are in flight, a
second start on the same database, and the event log read back through the API.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.servers import HubProcess, wait_for

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"
POSTERS = 3
BATCH = 50
ACKED_BEFORE_KILL = 20  # batches acknowledged before the kill, whatever the machine's speed


def call(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, Any]:
    """One API call as admin; `conn` is reused (keep-alive) when given."""
    own = conn is None
    conn = conn or http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, payload, headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        if own:
            conn.close()


@dataclass
class Ledger:
    """What the posters know: batches acknowledged, and batches sent but never answered."""

    acked: list[list[str]] = field(default_factory=list)
    unanswered: list[list[str]] = field(default_factory=list)
    refused: list[tuple[int, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def post_until_cut(
    port: int, run_id: str, name: str, ledger: Ledger, stop: threading.Event
) -> None:
    """Post batches of progress events until the hub stops answering."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    path = f"/api/v1/runs/{run_id}/events"
    n = 0
    try:
        while not stop.is_set():
            ids = [f"{name}-{n + i}" for i in range(BATCH)]
            events = [{"id": i, "type": "progress", "done": n + k} for k, i in enumerate(ids)]
            n += BATCH
            try:
                status, reply = call(port, "POST", path, {"events": events}, conn)
            except (OSError, http.client.HTTPException):
                with ledger.lock:
                    ledger.unanswered.append(ids)
                return
            with ledger.lock:
                if status == 200 and reply["accepted"] == BATCH:
                    ledger.acked.append(ids)
                else:
                    ledger.refused.append((status, reply))
                    return
    finally:
        conn.close()


def read_event_ids(port: int, run_id: str) -> list[str]:
    """Every event id in the run's log, page by page, oldest first."""
    ids: list[str] = []
    after = 0
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        while True:
            path = f"/api/v1/runs/{run_id}/events?after={after}&limit=1000"
            status, page = call(port, "GET", path, conn=conn)
            assert status == 200, page
            if not page["events"]:
                return ids
            ids += [event["id"] for event in page["events"]]
            after = page["next_after"]
    finally:
        conn.close()


@pytest.fixture
def hub_process(db_url: str, tmp_path: Path) -> Iterator[HubProcess]:
    hub_process = HubProcess(db=db_url, data_dir=tmp_path / "hub-data")
    hub_process.data_dir.mkdir()
    try:
        yield hub_process
    finally:
        hub_process.kill()


def ingest_then_kill(hub_process: HubProcess, run_id: str) -> Ledger:
    """Post from several threads; SIGKILL the hub once enough batches are acknowledged."""
    ledger, stop = Ledger(), threading.Event()
    posters = [
        threading.Thread(
            target=post_until_cut, args=(hub_process.port, run_id, f"p{i}", ledger, stop)
        )
        for i in range(POSTERS)
    ]
    for poster in posters:
        poster.start()
    wait_for(
        lambda: len(ledger.acked) >= ACKED_BEFORE_KILL,
        timeout=120,
        every=0.005,
        what=f"{ACKED_BEFORE_KILL} acknowledged batches",
    )
    hub_process.kill()
    stop.set()
    for poster in posters:
        poster.join(15)
    return ledger


def test_a_hub_killed_mid_ingestion_restarts_with_every_acknowledged_event(hub_process: HubProcess):
    hub_process.start()
    status, run = call(hub_process.port, "POST", "/api/v1/runs", {"job": "durability"})
    assert status == 201, run

    ledger = ingest_then_kill(hub_process, run["id"])
    assert not ledger.refused, ledger.refused
    assert ledger.unanswered, "the posters had stopped before the hub was killed"

    hub_process.start()
    stored = read_event_ids(hub_process.port, run["id"])
    progress = [i for i in stored if not i.startswith("status-")]
    doubled = [i for i, count in Counter(stored).items() if count > 1]
    assert not doubled, f"events stored twice: {doubled[:10]}"
    acked = {i for batch in ledger.acked for i in batch}
    missing = acked - set(progress)
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:5]}"
    # A batch cut off by the kill was committed whole or not at all.
    sent = acked | {i for batch in ledger.unanswered for i in batch}
    assert set(progress) <= sent
    for batch in ledger.unanswered:
        assert len(set(batch) & set(progress)) in (0, BATCH), "a batch was half-written"

    # The restarted hub still knows those ids: a retried batch adds nothing.
    retry = [{"id": i, "type": "progress", "done": 0} for i in ledger.acked[-1]]
    status, reply = call(
        hub_process.port, "POST", f"/api/v1/runs/{run['id']}/events", {"events": retry}
    )
    assert (status, reply["accepted"], reply["duplicates"]) == (200, 0, BATCH)
    hub_process.stop()
