"""Stopping a run's process on its agent: from the API and from chat; SIGKILL after the
grace for a command that ignores SIGTERM; the job's time limit; the agent's --allow."""

from __future__ import annotations

import shutil

import pytest

from tests.agents.harness import AgentHub, call
from tests.servers import wait_for

pytestmark = pytest.mark.slow
POLITE = 'echo begin; trap "echo got term; exit 3" TERM; sleep 60 & wait'
STUBBORN = 'trap "echo not now" TERM; echo begin; while true; do sleep 0.1; done'


def _begun(agent_hub: AgentHub, run_id: str) -> None:
    wait_for(lambda: "begin" in agent_hub.run(run_id)["log_tail"], 20, what="the command's output")


def test_cancel_from_the_api_stops_the_process_with_sigterm(agent_hub: AgentHub):
    agent_hub.agent("a1")
    agent_hub.job("long", POLITE)
    run_id = agent_hub.run_now("long")
    _begun(agent_hub, run_id)
    answer = agent_hub.api("POST", f"/api/v1/runs/{run_id}/cancel")
    assert answer == {"run_id": run_id, "status": "running", "stopping": True}
    run = agent_hub.wait_run(run_id, "cancelled")
    assert (run["exit_code"], run["log_tail"]) == (3, ["begin", "got term"])


def test_cancel_from_chat_stops_the_process(agent_hub: AgentHub):
    agent_hub.agent("a1")
    agent_hub.job("long", POLITE)
    run_id = agent_hub.run_now("long")
    _begun(agent_hub, run_id)
    agent_hub.say(f"!cancel {run_id}")
    run = agent_hub.wait_run(run_id, "cancelled")
    assert (run["exit_code"], run["log_tail"][-1]) == (3, "got term")
    texts = [m["text"] for m in agent_hub.api("GET", "/api/v1/rooms/ops/messages")["messages"]]
    assert f"stopping run `{run_id}` on its agent" in texts


def test_a_command_that_ignores_sigterm_is_killed_after_the_grace(agent_hub: AgentHub):
    agent_hub.agent("a1")  # --grace 1
    agent_hub.job("stubborn", STUBBORN)
    run_id = agent_hub.run_now("stubborn")
    _begun(agent_hub, run_id)
    agent_hub.api("POST", f"/api/v1/runs/{run_id}/cancel")
    run = agent_hub.wait_run(run_id, "cancelled")
    assert run["exit_code"] == 128 + 9 and "not now" in run["log_tail"]
    assert "killed by SIGKILL" in run["error"]


def test_a_queued_run_is_cancelled_at_once(agent_hub: AgentHub):
    agent_hub.job("nowhere", "true", tags=["absent"])
    run_id = agent_hub.run_now("nowhere")
    answer = agent_hub.api("POST", f"/api/v1/runs/{run_id}/cancel")
    assert answer == {"run_id": run_id, "status": "cancelled", "stopping": False}
    assert agent_hub.api("GET", "/api/v1/agents")["queue"] == []


def test_a_run_past_its_time_limit_is_stopped_and_failed(agent_hub: AgentHub):
    agent_hub.agent("a1")
    agent_hub.job("slow", "echo begin; sleep 60", time_limit=2)
    run = agent_hub.wait_run(agent_hub.run_now("slow"), "failed")
    assert run["error"] == "stopped: the job's time limit of 2 s was reached"


def test_the_command_runs_with_its_directory_environment_and_run_token(
    agent_hub: AgentHub, tmp_path
):
    agent_hub.agent("a1")
    script = 'pwd; echo "$GREETING"; echo "$THEREYET_URL"; echo "$THEREYET_RUN_ID"'
    agent_hub.job("env", script, cwd=str(tmp_path), env={"GREETING": "hello"})
    run_id = agent_hub.run_now("env")
    run = agent_hub.wait_run(run_id, "succeeded")
    assert run["log_tail"] == [str(tmp_path), "hello", agent_hub.url, run_id]


def test_the_argument_list_is_not_given_to_a_shell(agent_hub: AgentHub):
    agent_hub.agent("a1")
    command = ["echo", "$HOME; rm -rf /nothing"]
    agent_hub.api(
        "PUT",
        "/api/v1/jobs/plain/schedule",
        {"target": {"kind": "agent", "command": command}, "room": "ops"},
    )
    run = agent_hub.wait_run(agent_hub.run_now("plain"), "succeeded")
    assert run["log_tail"] == ["$HOME; rm -rf /nothing"]


def test_an_agent_runs_only_what_its_allow_list_lets_it(agent_hub: AgentHub, tmp_path):
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    allowed = jobs / "hello.sh"
    allowed.write_text("#!/bin/sh\necho allowed\n")
    allowed.chmod(0o755)
    agent_hub.agent("a1", "--allow", f"{jobs}/*")
    for name, target in (
        ("inside", {"command": [str(allowed)]}),
        ("outside", {"command": ["sh", "-c", "echo nope"]}),
        ("shell", {"command": [str(allowed)], "shell": True}),
    ):
        body = {"target": {"kind": "agent", **target}, "room": "ops"}
        agent_hub.api("PUT", f"/api/v1/jobs/{name}/schedule", body)
    assert agent_hub.wait_run(agent_hub.run_now("inside"), "succeeded")["log_tail"] == ["allowed"]
    refused = agent_hub.wait_run(agent_hub.run_now("outside"), "failed")
    assert refused["exit_code"] == 126 and refused["log_tail"] == []
    sh = shutil.which("sh")
    assert refused["error"] == f"{sh} is not allowed on agent a1 (--allow {jobs}/*)"
    shell = agent_hub.wait_run(agent_hub.run_now("shell"), "failed")
    assert shell["error"] == "this agent runs no shell commands (it was started with --allow)"


def test_an_agent_token_can_do_nothing_but_the_agent_protocol(agent_hub: AgentHub):
    for method, path in (
        ("GET", "/api/v1/runs"),
        ("GET", "/api/v1/agents"),
        ("POST", "/api/v1/rooms/ops/messages"),
        ("GET", "/api/v1/jobs"),
    ):
        status, answer = call(agent_hub.url, agent_hub.token, method, path, {"text": "x"})
        assert status == 403, (path, answer)
        assert "an agent token may not" in answer["error"]


def test_stopping_the_agent_stops_its_commands_and_reports_how_they_ended(agent_hub: AgentHub):
    agent = agent_hub.agent("a1")
    agent_hub.job("long", POLITE)
    run_id = agent_hub.run_now("long")
    _begun(agent_hub, run_id)
    agent.stop()  # SIGTERM, as systemctl stop sends
    assert agent.process is not None and agent.process.returncode == 0
    run = agent_hub.wait_run(run_id, "cancelled")
    assert (run["exit_code"], run["log_tail"][-1]) == (3, "got term")
