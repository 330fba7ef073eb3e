"""Real agent processes: an agent name belongs to a credential. A token made for one name
runs only that agent; a fleet token holds the names it registered; revoking a token loses
its agents at once (long before their silence would), and their runs are retried."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.agents.harness import AgentHub, AgentProcess
from tests.servers import wait_for

LOST_AFTER = 120.0  # silence alone would take this long to lose an agent


def _refused(agent: AgentProcess) -> str:
    """Wait for an agent process to give up; its log."""
    assert agent.process is not None
    assert agent.process.wait(30) == 1, agent.log.read_text()
    return agent.log.read_text()


def test_an_agent_whose_name_is_not_its_tokens_own_stops_at_once(tmp_path: Path):
    hub = AgentHub.start(tmp_path, THEREYET_AGENT_LOST_AFTER=str(LOST_AFTER))
    try:
        for_h1 = hub.api("POST", "/api/v1/tokens", {"name": "h1", "scope": "agent", "agent": "h1"})
        workdir = tmp_path / "agents"
        wrong_name = AgentProcess("h2", hub.url, for_h1["token"], workdir).start()
        assert "this agent token is for agent 'h1' only" in _refused(wrong_name)
        hub.agents.append(AgentProcess("h1", hub.url, for_h1["token"], workdir).start())
        wait_for(lambda: hub.agent_state("h1") == "online", 30, what="h1 online")

        hub.agent("a1")  # the fleet token holds a1 now
        other = hub.api("POST", "/api/v1/tokens", {"name": "other", "scope": "agent"})
        impostor = AgentProcess("a1", hub.url, other["token"], tmp_path / "impostor").start()
        assert "agent name 'a1' belongs to another token" in _refused(impostor)
        assert hub.agent_state("a1") == "online"
        assert {a["name"] for a in hub.api("GET", "/api/v1/agents")["agents"]} == {"h1", "a1"}
    finally:
        hub.close()


def test_revoking_a_token_loses_its_agents_at_once_and_their_runs_go_to_another(tmp_path: Path):
    hub = AgentHub.start(tmp_path, THEREYET_AGENT_LOST_AFTER=str(LOST_AFTER))
    try:
        fleet_id = next(
            t["id"] for t in hub.api("GET", "/api/v1/tokens")["tokens"] if t["name"] == "agents"
        )
        hub.agent("a1", "--tags", "x")
        hub.job("work", "sleep 60", tags=["x"], retries=1)
        first = hub.run_now("work")
        hub.wait_run(first, "running")
        other = hub.api("POST", "/api/v1/tokens", {"name": "b", "scope": "agent"})["token"]
        b1 = AgentProcess("b1", hub.url, other, tmp_path / "b", ["--tags", "x"])
        hub.agents.append(b1.start())
        wait_for(lambda: hub.agent_state("b1") == "online", 30, what="b1 online")

        hub.api("DELETE", f"/api/v1/tokens/{fleet_id}")
        assert hub.agent_state("a1") == "lost"  # at once, not after LOST_AFTER of silence
        assert hub.run(first)["status"] == "lost"
        retry = wait_for(
            lambda: [r for r in hub.runs("work") if r["id"] != first and r["status"] == "running"],
            30,
            what="the retry running",
        )
        assert retry[0]["host"] == "b1"
        assert hub.agent_state("b1") == "online"
    finally:
        hub.close()


def test_a_token_revoked_on_the_hubs_database_loses_its_agents_at_the_next_tick(tmp_path: Path):
    """`thereyet token revoke` on the hub's own database (no API, so no revoke hook):
    the assigner finds the agents whose token was revoked at its next tick."""
    hub = AgentHub.start(tmp_path, THEREYET_AGENT_LOST_AFTER=str(LOST_AFTER))
    try:
        tokens = hub.api("GET", "/api/v1/tokens")["tokens"]
        fleet_id = next(t["id"] for t in tokens if t["name"] == "agents")
        hub.agent("a1")
        env = {k: v for k, v in os.environ.items() if not k.startswith("THEREYET_")}
        revoke = [sys.executable, "-m", "thereyet", "token", "revoke", fleet_id]
        done = subprocess.run(
            [*revoke, "--data-dir", str(hub.hub.data_dir)], env=env, capture_output=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        # Within the 5 s a node remembers a checked token, and a tick: not LOST_AFTER.
        wait_for(lambda: hub.agent_state("a1") == "lost", 20, what="a1 lost")
    finally:
        hub.close()
