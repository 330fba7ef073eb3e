"""A hub killed with SIGKILL mid-ingestion restarts with every acknowledged event.

This runs the real thing: `thereyet server` as a subprocess, clients posting
batches over HTTP from threads, kill -9 while requests are in flight, a
second start on the same database, and the event log read back through the API.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"
POSTERS = 3
BATCH = 50
ENOUGH_BATCHES = 300
MAX_INGEST_SECONDS = 2.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class HubProcess:
    """`thereyet server` on a loopback port, its output kept in a log file."""

    db: str
    data_dir: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "thereyet.cli.main", "server", "--host", HOST]
        command += ["--port", str(self.port), "--db", self.db, "--data-dir", str(self.data_dir)]
        command += ["--log-level", "warning"]
        env = {**os.environ, "THEREYET_ADMIN_TOKEN": ADMIN_TOKEN}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the hub exited at start:\n{self.output()}"
            with contextlib.suppress(OSError, http.client.HTTPException):
                if call(self.port, "GET", "/api/v1/health")[0] == 200:
                    return
            time.sleep(0.05)
        raise AssertionError(f"the hub did not answer within 30 s:\n{self.output()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # SIGKILL: no shutdown, no flush, no goodbye
        self.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
        self.wait()

    def wait(self) -> None:
        if self.process is not None:
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def log(self) -> Path:
        return self.data_dir / "hub.log"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


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
def hub(db_url: str, tmp_path: Path) -> Iterator[HubProcess]:
    hub = HubProcess(db=db_url, data_dir=tmp_path / "hub-data")
    hub.data_dir.mkdir()
    try:
        yield hub
    finally:
        hub.kill()


def ingest_then_kill(hub: HubProcess, run_id: str) -> Ledger:
    """Post from several threads; SIGKILL the hub once enough batches are acknowledged."""
    ledger, stop = Ledger(), threading.Event()
    posters = [
        threading.Thread(target=post_until_cut, args=(hub.port, run_id, f"p{i}", ledger, stop))
        for i in range(POSTERS)
    ]
    for poster in posters:
        poster.start()
    deadline = time.monotonic() + MAX_INGEST_SECONDS
    while time.monotonic() < deadline and len(ledger.acked) < ENOUGH_BATCHES:
        time.sleep(0.01)
    hub.kill()
    stop.set()
    for poster in posters:
        poster.join(15)
    return ledger


def test_a_hub_killed_mid_ingestion_restarts_with_every_acknowledged_event(hub: HubProcess):
    hub.start()
    status, run = call(hub.port, "POST", "/api/v1/runs", {"job": "durability"})
    assert status == 201, run

    ledger = ingest_then_kill(hub, run["id"])
    assert not ledger.refused, ledger.refused
    assert len(ledger.acked) >= 10, f"too few batches acknowledged:\n{hub.output()}"
    assert ledger.unanswered, "the posters had stopped before the hub was killed"

    hub.start()
    stored = read_event_ids(hub.port, run["id"])
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
    status, reply = call(hub.port, "POST", f"/api/v1/runs/{run['id']}/events", {"events": retry})
    assert (status, reply["accepted"], reply["duplicates"]) == (200, 0, BATCH)
    hub.stop()
