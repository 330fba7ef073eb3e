"""A Python job an agent runs reports through the SDK into the agent's run (its
THEREYET_RUN_ID and run token), and the agent ends the run with the exit code."""

from __future__ import annotations

import sys

import pytest

from tests.agents.harness import AgentHub

pytestmark = pytest.mark.slow
SCRIPT = """
import thereyet
for _ in thereyet.track(range(40), job="some-other-name"):
    pass
with thereyet.run("yet-another") as run:
    run.stat("rows", 40)
"""


def test_a_python_job_reports_into_the_run_its_agent_started(agent_hub: AgentHub):
    agent_hub.agent("a1")
    body = {"kind": "agent", "command": [sys.executable, "-c", SCRIPT]}
    agent_hub.api("PUT", "/api/v1/jobs/export/schedule", {"target": body, "room": "ops"})
    run = agent_hub.wait_run(agent_hub.run_now("export"), "succeeded", "failed")
    assert (run["status"], run["exit_code"]) == ("succeeded", 0)
    assert run["progress"]["done"] == 40 and run["progress"]["total"] == 40
    jobs = {j["name"] for j in agent_hub.api("GET", "/api/v1/jobs")["jobs"]}
    assert "some-other-name" not in jobs and "yet-another" not in jobs
