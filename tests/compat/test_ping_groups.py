"""Pings made together in the writer's groups, over real HTTP on both backends.

Many clients pinging many checks at once: every answered ping is one run,
recorded exactly once, with the cards a check's room gets when its pings are
made one by one (the first success only, by default).
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from tests.servers import serve
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock
from thereyet.server.config import Settings
from thereyet.server.domain.ratelimit import Rate
from thereyet.server.services.rate_buckets import SharedBuckets

CHECKS = 12
CLIENTS = 8
ROUNDS = 5  # each client pings every check this many times


def _ping_all(base: str, paths: list[str], answers: Counter[int], lock: threading.Lock) -> None:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    mine: Counter[int] = Counter()
    for _ in range(ROUNDS):
        for path in paths:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            mine[response.status] += 1
    conn.close()
    with lock:
        answers.update(mine)


def _call(base: str, token: str, method: str, path: str, body: Any = None) -> Any:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request(method, path, None if body is None else json.dumps(body), headers)
    found = json.loads(conn.getresponse().read())
    conn.close()
    return found


def test_concurrent_pings_are_each_recorded_once(settings: Settings, clock: FakeClock):
    app = create_app(settings, clock)
    with serve(app) as base:
        token = settings.admin_token
        paths = [
            _call(base, token, "PUT", f"/api/v1/jobs/check-{n}/schedule", {"room": "ops"})[
                "ping_url"
            ]
            for n in range(CHECKS)
        ]
        answers: Counter[int] = Counter()
        lock = threading.Lock()
        clients = [
            threading.Thread(target=_ping_all, args=(base, paths[i:] + paths[:i], answers, lock))
            for i in range(CLIENTS)
        ]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        assert answers == Counter({200: CHECKS * CLIENTS * ROUNDS})
        jobs = _call(base, token, "GET", "/api/v1/jobs")["jobs"]
        assert {j["name"]: j["run_count"] for j in jobs} == {
            f"check-{n}": CLIENTS * ROUNDS for n in range(CHECKS)
        }
        cards = _call(base, token, "GET", "/api/v1/rooms/ops/messages?limit=500")["messages"]
        # One card per check: its first success; every later success is no news.
        assert Counter(m["data"]["job"] for m in cards if m["kind"] == "run") == Counter(
            {f"check-{n}": 1 for n in range(CHECKS)}
        )
        assert app.state.hub.writer.batched > 0  # some pings were made together
        assert app.state.ping_counts.answered == CHECKS * CLIENTS * ROUNDS


def test_concurrent_pings_by_ping_key_and_slug_are_each_recorded_once(
    settings: Settings, clock: FakeClock
):
    app = create_app(settings, clock)
    with serve(app) as base:
        token = settings.admin_token
        key = _call(base, token, "POST", "/api/v1/ping-keys", {"name": "servers"})["key"]
        for n in range(CHECKS):
            _call(base, token, "PUT", f"/api/v1/jobs/check-{n}/schedule", {})
        paths = [f"/ping/{key}/check-{n}" for n in range(CHECKS)]
        answers: Counter[int] = Counter()
        lock = threading.Lock()
        clients = [
            threading.Thread(target=_ping_all, args=(base, paths[i:] + paths[:i], answers, lock))
            for i in range(CLIENTS)
        ]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        assert answers == Counter({200: CHECKS * CLIENTS * ROUNDS})
        jobs = _call(base, token, "GET", "/api/v1/jobs")["jobs"]
        assert {j["name"]: j["run_count"] for j in jobs} == {
            f"check-{n}": CLIENTS * ROUNDS for n in range(CHECKS)
        }


def test_concurrent_pings_over_a_checks_limit_are_refused_and_record_nothing(
    settings: Settings, clock: FakeClock
):
    """The limit is spent inside the group (services/rate_buckets.take_in): a burst of
    pings at one check records exactly its burst, however the writer groups them."""
    app = create_app(settings, clock)
    with serve(app) as base:
        pings = app.state.pings
        pings.per_job = SharedBuckets(pings.hub, Rate(per_minute=60, burst=7))
        path = _call(base, settings.admin_token, "PUT", "/api/v1/jobs/busy/schedule", {})[
            "ping_url"
        ]
        answers: Counter[int] = Counter()
        lock = threading.Lock()
        clients = [
            threading.Thread(target=_ping_all, args=(base, [path] * 3, answers, lock))
            for _ in range(CLIENTS)
        ]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        sent = CLIENTS * ROUNDS * 3
        assert answers == Counter({200: 7, 429: sent - 7})  # the fake clock refills nothing
        job = _call(base, settings.admin_token, "GET", "/api/v1/jobs/busy")
        assert job["run_count"] == 7
