"""The per-check ping limit holds across two real nodes on one PostgreSQL database.

The limit is spent inside each node's writer group (services/rate_buckets.take_in),
so a ping costs no transaction of its own for it; the buckets are rows, so two nodes
together allow a check its burst, not twice it."""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest

from tests.nodes import Cluster, http

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
BURST = 10
PINGS = 60  # six times the burst, half through each node
SENDERS = 12


def _ping_from(urls: list[str], answers: Counter[int], lock: threading.Lock) -> None:
    mine = Counter(http("GET", url, token=None)[0] for url in urls)
    with lock:
        answers.update(mine)


def test_a_checks_ping_limit_holds_across_two_nodes(nodes_db: str, tmp_path: Path):
    # One token a minute: within the test's seconds nothing refills, so exactly the
    # burst may be recorded, whichever node each ping reaches.
    env = {"THEREYET_PING_RATE_PER_MINUTE": "1", "THEREYET_PING_BURST": str(BURST)}
    with Cluster.start(nodes_db, tmp_path, nodes=2, env=env) as hub:
        a, b = hub.nodes
        ping_url = a.request("PUT", "/api/v1/jobs/backup/schedule", {})[1]["ping_url"]
        path = urllib.parse.urlsplit(ping_url).path
        urls = [f"{(a if i % 2 else b).url}{path}" for i in range(PINGS)]
        answers: Counter[int] = Counter()
        lock = threading.Lock()
        senders = [
            threading.Thread(target=_ping_from, args=(urls[i::SENDERS], answers, lock))
            for i in range(SENDERS)
        ]
        began = time.monotonic()
        for t in senders:
            t.start()
        for t in senders:
            t.join()
        assert time.monotonic() - began < 55, "too slow to rule out a refilled token"
        assert answers == Counter({200: BURST, 429: PINGS - BURST}), hub.logs()
        job = b.get("/api/v1/jobs/backup")
        assert job["run_count"] == BURST  # every 200 recorded, nothing of a 429
