"""Key answers of the JSON API, byte for byte: declaring response models in the OpenAPI
(web/api/answers.py) documents what routes answer and must not change a byte of it.

The expected bytes were taken from the hub before the models were declared; a change
here breaks every client that compares or parses these answers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.nodes import fresh_pg_database
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock

RUN = "run-0001-golden"


def _answers(client: TestClient, clock: FakeClock) -> dict[str, tuple[int, bytes]]:
    """The answers, by name, of a short session any client could have."""
    seen: dict[str, tuple[int, bytes]] = {}

    def call(name: str, method: str, path: str, body: Any = None) -> None:
        response = client.request(method, path, json=body)
        seen[name] = (response.status_code, response.content)

    run = {"job": "export", "room": "ops", "id": RUN, "total": 100, "host": "db1"}
    call("create run", "POST", "/api/v1/runs", run)
    call("create run again", "POST", "/api/v1/runs", run)
    progress = [
        {"id": "e1", "type": "progress", "done": 10},
        {"id": "e2", "type": "log", "text": "é"},
    ]
    call("report events", "POST", f"/api/v1/runs/{RUN}/events", {"events": progress})
    clock.advance(60)
    later = [
        {"id": "e3", "type": "progress", "done": 50},
        {"id": "e4", "type": "stat", "name": "rows", "value": 5},
    ]
    call("report more events", "POST", f"/api/v1/runs/{RUN}/events", {"events": later})
    call("run", "GET", f"/api/v1/runs/{RUN}")
    call("runs", "GET", "/api/v1/runs")
    call("events", "GET", f"/api/v1/runs/{RUN}/events?after=1")
    call("finish", "POST", f"/api/v1/runs/{RUN}/finish", {"status": "succeeded", "exit_code": 0})
    call("message", "POST", "/api/v1/rooms/ops/messages", {"text": "done \u2705", "id": "m1"})
    call("messages", "GET", "/api/v1/rooms/ops/messages")
    call("me", "GET", "/api/v1/me")
    call("jobs", "GET", "/api/v1/jobs")
    return seen


# What each answer was, on SQLite (the status, then the exact bytes).
SQLITE: dict[str, tuple[int, bytes]] = {
    "create run": (
        201,
        b'{"id":"run-0001-golden","job":"export","status":"running","rooms":["ops"],"h'
        b'ost":"db1","pid":null,"user":null,"trigger":null,"node":"test-node","created'
        b'_at":"2026-03-02T09:00:00Z","started_at":"2026-03-02T09:00:00Z","finished_at'
        b'":null,"heartbeat_at":"2026-03-02T09:00:00Z","progress_at":null,"elapsed":0.'
        b'0,"progress":{"done":null,"total":100.0,"unit":null,"percent":null},"rate":n'
        b'ull,"eta":{"seconds":null,"low":null,"high":null,"basis":"none","reason":"no'
        b't enough data yet","text":"not enough data yet","finish_at":null},"eta_predi'
        b'ctions":[],"stats":{},"log_tail":[],"exit_code":null,"error":null}',
    ),
    "create run again": (
        200,
        b'{"id":"run-0001-golden","job":"export","status":"running","rooms":["ops"],"h'
        b'ost":"db1","pid":null,"user":null,"trigger":null,"node":"test-node","created'
        b'_at":"2026-03-02T09:00:00Z","started_at":"2026-03-02T09:00:00Z","finished_at'
        b'":null,"heartbeat_at":"2026-03-02T09:00:00Z","progress_at":null,"elapsed":0.'
        b'0,"progress":{"done":null,"total":100.0,"unit":null,"percent":null},"rate":n'
        b'ull,"eta":{"seconds":null,"low":null,"high":null,"basis":"none","reason":"no'
        b't enough data yet","text":"not enough data yet","finish_at":null},"eta_predi'
        b'ctions":[],"stats":{},"log_tail":[],"exit_code":null,"error":null}',
    ),
    "report events": (200, b'{"accepted": 2, "duplicates": 0, "status": "running"}'),
    "report more events": (200, b'{"accepted": 2, "duplicates": 0, "status": "running"}'),
    "run": (
        200,
        b'{"id":"run-0001-golden","job":"export","status":"running","rooms":["ops"],"h'
        b'ost":"db1","pid":null,"user":null,"trigger":null,"node":"test-node","created'
        b'_at":"2026-03-02T09:00:00Z","started_at":"2026-03-02T09:00:00Z","finished_at'
        b'":null,"heartbeat_at":"2026-03-02T09:01:00Z","progress_at":"2026-03-02T09:01'
        b':00Z","elapsed":60.0,"progress":{"done":50.0,"total":100.0,"unit":null,"perc'
        b'ent":50.0},"rate":0.6666666666666666,"eta":{"seconds":75.0,"low":38.9,"high"'
        b':144.5,"basis":"rate","reason":null,"text":"about 1-2 min left","finish_at":'
        b'"2026-03-02T09:02:15Z"},"eta_predictions":[{"fraction":0.25,"elapsed":60.0,"'
        b'seconds":75.0,"low":38.9,"high":144.5,"actual":null,"error":null,"held":null'
        b'},{"fraction":0.5,"elapsed":60.0,"seconds":75.0,"low":38.9,"high":144.5,"act'
        b'ual":null,"error":null,"held":null}],"stats":{"rows":5.0},"log_tail":["\xc3\xa9"],'
        b'"exit_code":null,"error":null,"attachments":[]}',
    ),
    "runs": (
        200,
        b'{"runs":[{"id":"run-0001-golden","job":"export","status":"running","rooms":['
        b'"ops"],"host":"db1","pid":null,"user":null,"trigger":null,"node":"test-node"'
        b',"created_at":"2026-03-02T09:00:00Z","started_at":"2026-03-02T09:00:00Z","fi'
        b'nished_at":null,"heartbeat_at":"2026-03-02T09:01:00Z","progress_at":"2026-03'
        b'-02T09:01:00Z","elapsed":60.0,"progress":{"done":50.0,"total":100.0,"unit":n'
        b'ull,"percent":50.0},"rate":0.6666666666666666,"eta":{"seconds":75.0,"low":38'
        b'.9,"high":144.5,"basis":"rate","reason":null,"text":"about 1-2 min left","fi'
        b'nish_at":"2026-03-02T09:02:15Z"},"eta_predictions":[{"fraction":0.25,"elapse'
        b'd":60.0,"seconds":75.0,"low":38.9,"high":144.5,"actual":null,"error":null,"h'
        b'eld":null},{"fraction":0.5,"elapsed":60.0,"seconds":75.0,"low":38.9,"high":1'
        b'44.5,"actual":null,"error":null,"held":null}],"stats":{"rows":5.0},"log_tail'
        b'":["\xc3\xa9"],"exit_code":null,"error":null}],"next_cursor":null}',
    ),
    "events": (
        200,
        b'{"events":[{"seq":2,"id":"e1","type":"progress","ts":"2026-03-02T09:00:00Z",'
        b'"done":10.0,"total":null,"unit":null},{"seq":3,"id":"e2","type":"log","ts":"'
        b'2026-03-02T09:00:00Z","text":"\xc3\xa9","stream":"stdout"},{"seq":4,"id":"e3","typ'
        b'e":"progress","ts":"2026-03-02T09:01:00Z","done":50.0,"total":null,"unit":nu'
        b'll},{"seq":5,"id":"e4","type":"stat","ts":"2026-03-02T09:01:00Z","name":"row'
        b's","value":5.0,"unit":null}],"next_after":5}',
    ),
    "finish": (
        200,
        b'{"id":"run-0001-golden","job":"export","status":"succeeded","rooms":["ops"],'
        b'"host":"db1","pid":null,"user":null,"trigger":null,"node":"test-node","creat'
        b'ed_at":"2026-03-02T09:00:00Z","started_at":"2026-03-02T09:00:00Z","finished_'
        b'at":"2026-03-02T09:01:00Z","heartbeat_at":"2026-03-02T09:01:00Z","progress_a'
        b't":"2026-03-02T09:01:00Z","elapsed":60.0,"progress":{"done":50.0,"total":100'
        b'.0,"unit":null,"percent":50.0},"rate":0.6666666666666666,"eta":{"seconds":0,'
        b'"low":null,"high":null,"basis":"none","reason":"run succeeded","text":"succe'
        b'eded","finish_at":null},"eta_predictions":[{"fraction":0.25,"elapsed":60.0,"'
        b'seconds":75.0,"low":38.9,"high":144.5,"actual":0.0,"error":null,"held":false'
        b'},{"fraction":0.5,"elapsed":60.0,"seconds":75.0,"low":38.9,"high":144.5,"act'
        b'ual":0.0,"error":null,"held":false}],"stats":{"rows":5.0},"log_tail":["\xc3\xa9"],'
        b'"exit_code":0,"error":null}',
    ),
    "message": (
        201,
        b'{"id":3,"room":"ops","created_at":"2026-03-02T09:01:00Z","author":"admin","k'
        b'ind":"text","text":"done \xe2\x9c\x85","data":{}}',
    ),
    "messages": (
        200,
        b'{"messages":[{"id":1,"room":"ops","created_at":"2026-03-02T09:00:00Z","autho'
        b'r":"thereyet","kind":"run","text":"**export** started on db1","data":{"run_i'
        b'd":"run-0001-golden","job":"export","status":"running"}},{"id":2,"room":"ops'
        b'","created_at":"2026-03-02T09:01:00Z","author":"thereyet","kind":"run","text'
        b'":"**export** finished in 1m on db1, 50 of 100 done","data":{"run_id":"run-0'
        b'001-golden","job":"export","status":"succeeded"}},{"id":3,"room":"ops","crea'
        b'ted_at":"2026-03-02T09:01:00Z","author":"admin","kind":"text","text":"done \xe2'
        b'\x9c\x85","data":{}}],"prev_cursor":null,"next_after":3}',
    ),
    "me": (200, b'{"name":"admin","scope":"admin","jobs":[],"rooms":[]}'),
    "jobs": (
        200,
        b'{"jobs":[{"name":"export","title":"Export","description":"","runbook_url":nu'
        b'll,"room_cards":null,"rooms":["ops"],"created_at":"2026-03-02T09:00:00Z","ru'
        b'n_count":1,"last_run_at":"2026-03-02T09:00:00Z"}]}',
    ),
}
# PostgreSQL keeps JSON objects (event and message data) in its own key order.
POSTGRES_DIFFERS: dict[str, tuple[int, bytes]] = {
    "events": (
        200,
        b'{"events":[{"seq":2,"id":"e1","type":"progress","ts":"2026-03-02T09:00:00Z",'
        b'"done":10.0,"unit":null,"total":null},{"seq":3,"id":"e2","type":"log","ts":"'
        b'2026-03-02T09:00:00Z","text":"\xc3\xa9","stream":"stdout"},{"seq":4,"id":"e3","typ'
        b'e":"progress","ts":"2026-03-02T09:01:00Z","done":50.0,"unit":null,"total":nu'
        b'll},{"seq":5,"id":"e4","type":"stat","ts":"2026-03-02T09:01:00Z","name":"row'
        b's","unit":null,"value":5.0}],"next_after":5}',
    ),
    "messages": (
        200,
        b'{"messages":[{"id":1,"room":"ops","created_at":"2026-03-02T09:00:00Z","autho'
        b'r":"thereyet","kind":"run","text":"**export** started on db1","data":{"job":'
        b'"export","run_id":"run-0001-golden","status":"running"}},{"id":2,"room":"ops'
        b'","created_at":"2026-03-02T09:01:00Z","author":"thereyet","kind":"run","text'
        b'":"**export** finished in 1m on db1, 50 of 100 done","data":{"job":"export",'
        b'"run_id":"run-0001-golden","status":"succeeded"}},{"id":3,"room":"ops","crea'
        b'ted_at":"2026-03-02T09:01:00Z","author":"admin","kind":"text","text":"done \xe2'
        b'\x9c\x85","data":{}}],"prev_cursor":null,"next_after":3}',
    ),
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_hub(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[tuple[TestClient, str]]:
    """A client of a hub on a database never used before, and its backend: ids start
    at 1 (PostgreSQL's sequences outlive the shared test database's TRUNCATE)."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'hub.db'}"
        else:
            request.getfixturevalue("pg_database")  # skipped (failed in CI) without a server
            url = stack.enter_context(fresh_pg_database())
        app = create_app(make_settings(url, tmp_path), clock)
        client = stack.enter_context(TestClient(app, raise_server_exceptions=False))
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client, request.param


def test_key_answers_are_byte_for_byte_what_they_were(new_hub, clock):
    client, backend = new_hub
    expected = dict(SQLITE)
    if backend == "postgres":
        expected.update(POSTGRES_DIFFERS)
    assert _answers(client, clock) == expected
