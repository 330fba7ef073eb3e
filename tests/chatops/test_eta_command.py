"""`!eta JOB` in a room answers with the run's ETA as a range."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from tests.chatops.conftest import make_room, say, texts
from thereyet.server.clock import FakeClock


@pytest.fixture(params=["sqlite"])
def db_url(sqlite_url: str) -> str:
    return sqlite_url


def test_eta_command_answers_with_a_range(client: TestClient, clock: FakeClock):
    make_room(client)
    run = client.post("/api/v1/runs", json={"job": "customer-export", "total": 1000}).json()
    for step in range(1, 21):
        clock.advance(10)
        event = {"id": f"p{step}", "type": "progress", "done": 25.0 * step}
        client.post(f"/api/v1/runs/{run['id']}/events", json={"events": [event]})
    say(client, "ops", "!eta customer-export")
    answer = texts(client, "ops")[-1]
    assert answer.startswith(f"- customer-export `{run['id']}` running 50%, ETA about ")
    said = re.search(r"ETA about (\d+)-(\d+) min left$", answer)
    assert said, answer
    assert int(said[1]) <= 3 <= int(said[2])  # 500 units left at 2.5 a second
