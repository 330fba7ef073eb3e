"""`thereyet server --demo` starts a local agent, so `!run league-matches` runs a real
command there, with its progress read from the output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents.harness import call
from tests.conftest import ADMIN_TOKEN
from tests.servers import HubProcess, wait_for

pytestmark = pytest.mark.slow


def test_run_in_the_demo_room_runs_league_matches_on_the_demo_agent(tmp_path: Path):
    hub = HubProcess(tmp_path / "hub", env={"THEREYET_DEMO": "1"})
    hub.start()
    try:

        def api(method: str, path: str, body: object = None) -> object:
            status, answer = call(hub.url, ADMIN_TOKEN, method, path, body)
            assert status < 300, answer
            return answer

        agents = wait_for(lambda: api("GET", "/api/v1/agents")["agents"], 30, what="demo agent")
        assert agents[0]["name"] == "demo-agent"
        api("POST", "/api/v1/rooms/demo/messages", {"text": "!run league-matches"})

        def played(seen: tuple[str, ...] = ()) -> dict | None:
            runs = api("GET", "/api/v1/runs?job=league-matches&limit=50")["runs"]
            mine = [
                r
                for r in runs
                if r["host"] == "demo-agent" and r["progress"]["done"] and r["id"] not in seen
            ]
            return mine[0] if mine else None

        run = wait_for(played, 30, what="league-matches playing on demo-agent")
        assert run["progress"]["total"] == 64 and run["trigger"] == "chat"
        api("POST", f"/api/v1/runs/{run['id']}/cancel")
        wait_for(lambda: api("GET", f"/api/v1/runs/{run['id']}")["status"] == "cancelled", 30)

        # Started again, the demo's agent takes its name back with a new token.
        hub.stop()
        hub.start()
        api("POST", "/api/v1/rooms/demo/messages", {"text": "!run league-matches"})
        wait_for(lambda: played((run["id"],)), 60, what="league-matches again after a restart")
        tokens = api("GET", "/api/v1/tokens")["tokens"]
        mine = [t for t in tokens if t["agent"] == "demo-agent" and t["revoked_at"] is None]
        assert len(mine) == 1
    finally:
        hub.stop()
