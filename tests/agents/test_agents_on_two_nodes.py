"""Two hub nodes on PostgreSQL, agents polling either: every scheduled occurrence of an
agent job runs on exactly one agent, once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from tests.agents.harness import LOST_AFTER, AgentProcess
from tests.leases.hubs import call, nodes
from tests.servers import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
SECONDS = 12


def test_each_occurrence_runs_on_exactly_one_agent_with_agents_on_either_node(
    node_database: str, tmp_path: Path
):
    starts = tmp_path / "starts.log"
    env = {"THEREYET_AGENT_LOST_AFTER": str(LOST_AFTER)}
    with nodes(node_database, tmp_path, "node-a", "node-b") as (a, b):
        a.start(env)
        b.start(env)
        token = call(a, "POST", "/api/v1/tokens", json={"name": "agents", "scope": "agent"})
        agents = [
            AgentProcess(name, node.url, token["token"], tmp_path / "agents", ["--slots", "2"])
            for name, node in (("a1", a), ("a2", a), ("b1", b), ("b2", b))
        ]
        try:
            for agent in agents:
                agent.start()
            wait_for(
                lambda: len(call(b, "GET", "/api/v1/agents")["agents"]) == 4, 30, what="4 agents"
            )
            command = ["sh", "-c", f'echo "$THEREYET_RUN_ID" >> {starts}; sleep 0.5']
            target = {"kind": "agent", "command": command}
            call(
                b,
                "PUT",
                "/api/v1/jobs/tick/schedule",
                json={"schedule": "every 1s", "target": target},
            )
            time.sleep(SECONDS)
            call(a, "PUT", "/api/v1/jobs/tick/schedule", json={"schedule": ""})
            runs = wait_for(
                lambda: (
                    (found := call(a, "GET", "/api/v1/runs?job=tick&limit=500")["runs"])
                    and all(r["status"] == "succeeded" for r in found)
                    and found
                ),
                60,
                what="every run of tick succeeded",
            )
        finally:
            for agent in agents:
                agent.stop()
    started = Counter(starts.read_text().split())
    assert len(runs) >= SECONDS - 3
    assert sorted(started) == sorted(r["id"] for r in runs)
    assert set(started.values()) == {1}
    hosts = Counter(r["host"] for r in runs)
    print(f"{len(runs)} occurrences, each started once, on {dict(hosts)}")
    assert set(hosts) == {"a1", "a2", "b1", "b2"}  # equally idle: the one idle longest
