"""PostgreSQL restarted in the middle of ingestion, on a server of the test's own: the
nodes recover by themselves, lose nothing they acknowledged, and live updates flow again."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.browsing import SseEvent, SseStream, sign_in
from tests.nodes import Cluster
from tests.private_pg import PrivatePostgres
from tests.servers import HubProcess, missing

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


class Ingest:
    """Reports one progress event per request, to the nodes in turn, as fast as they
    answer; notes every answer, and which event ids were acknowledged."""

    def __init__(self, nodes: list[HubProcess], run_id: str) -> None:
        self.nodes, self.run_id = nodes, run_id
        self.acked: list[int] = []
        self.statuses: list[int] = []
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._feed, daemon=True)
        self._thread.start()

    def _feed(self) -> None:
        done = 0
        while not self.stop.is_set():
            done += 1
            node = self.nodes[done % len(self.nodes)]
            event = {"id": f"e{done}", "type": "progress", "done": done, "total": 1_000_000}
            try:
                status, _ = node.request(
                    "POST", f"/api/v1/runs/{self.run_id}/events", {"events": [event]}, timeout=30
                )
            except OSError:
                status = 0  # no answer: not acknowledged
            self.statuses.append(status)
            if status == 200:
                self.acked.append(done)

    def finish(self) -> None:
        self.stop.set()
        self._thread.join(60)


def _stored_event_ids(node: HubProcess, run_id: str) -> set[str]:
    ids: set[str] = set()
    after = 0
    while page := node.get(f"/api/v1/runs/{run_id}/events?after={after}&limit=1000")["events"]:
        ids.update(e["id"] for e in page)
        after = page[-1]["seq"]
    return ids


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_postgresql_restart_mid_ingestion_loses_nothing_acknowledged(tmp_path: Path, mode: str):
    reason = PrivatePostgres.available()
    if reason:
        missing(reason)
    with PrivatePostgres.running() as pg, Cluster.start(pg.url, tmp_path, nodes=2) as hub:
        a, b = hub.nodes
        a.post(
            "/api/v1/users",
            {"username": "eve", "password": "watching the restart", "role": "viewer"},
        )
        cookie = sign_in(b.url, "eve", "watching the restart")
        run = a.post("/api/v1/runs", {"job": "ingest", "total": 1_000_000})
        with SseStream(b.url + "/live/runs", cookie=cookie) as stream:
            ingest = Ingest(hub.nodes, run["id"])
            try:
                hub.wait_until(lambda: len(ingest.acked) >= 50, "reports before the restart")
                pg.restart(mode)
                after_restart = len(ingest.statuses)
                hub.wait_until(
                    lambda: ingest.acked and ingest.acked[-1] > after_restart + 50,
                    "reports acknowledged again after the restart",
                    timeout=30,
                )
            finally:
                ingest.finish()
            stored = _stored_event_ids(a, run["id"])
            lost = [n for n in ingest.acked if f"e{n}" not in stored]
            assert lost == []
            # While PostgreSQL was away the nodes waited or said "try again" (503): never 500.
            assert set(ingest.statuses) <= {200, 503}, sorted(set(ingest.statuses))
            for node in hub.nodes:
                hub.wait_until(
                    lambda node=node: node.get("/api/v1/health", token=None)["bus"] == "listening",
                    f"{node.name}'s bus bridge listening again",
                )
            # The stream opened on B before the restart shows what A ingests after it.
            last = len(ingest.statuses) + 1000  # above anything the ingestion sent
            event = {"id": "final", "type": "progress", "done": last, "total": 1_000_000}
            a.post(f"/api/v1/runs/{run['id']}/events", {"events": [event]})

            def shows_last(e: SseEvent) -> bool:
                return any(r["id"] == run["id"] and r["progress"]["done"] == last for r in e.data)

            stream.wait_for(shows_last, "A's report after the restart on B's stream")
