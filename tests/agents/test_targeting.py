"""Which agent runs a job: by tags (all must match), by name, one or all; concurrency
limits and the queue, with real agent processes."""

from __future__ import annotations

import pytest

from tests.agents.harness import AgentHub
from tests.servers import wait_for

pytestmark = pytest.mark.slow


def test_a_job_by_tags_runs_only_on_an_agent_with_every_tag(agent_hub: AgentHub):
    agent_hub.agent("a1", "--tags", "linux")
    agent_hub.agent("a2", "--tags", "linux,db")
    agent_hub.agent("a3", "--tags", "db")
    agent_hub.job("backup", "echo 1/2; echo 2/2", tags=["linux", "db"])
    for _ in range(3):
        run = agent_hub.wait_run(agent_hub.run_now("backup"), "succeeded", "failed")
        assert (run["status"], run["host"], run["exit_code"]) == ("succeeded", "a2", 0)
        assert run["progress"]["done"] == 2 and run["log_tail"][-1] == "2/2"


def test_a_job_by_name_runs_on_that_agent(agent_hub: AgentHub):
    agent_hub.agent("a1")
    agent_hub.agent("db-2")
    agent_hub.job("vacuum", "true", agent="db-2")
    run = agent_hub.wait_run(agent_hub.run_now("vacuum"), "succeeded")
    assert run["host"] == "db-2"
    messages = agent_hub.api("GET", "/api/v1/rooms/ops/messages")["messages"]
    assert any(m["text"] == "**vacuum** started on db-2" for m in messages)


def test_policy_all_runs_once_on_every_matching_agent(agent_hub: AgentHub):
    for name, tags in (("a1", "web"), ("a2", "web"), ("a3", "db")):
        agent_hub.agent(name, "--tags", tags)
    agent_hub.job("deploy", "echo deployed", tags=["web"], policy="all")
    agent_hub.run_now("deploy")
    done = agent_hub.wait_all("deploy", 2)
    assert sorted(r["host"] for r in done) == ["a1", "a2"]
    assert sorted(agent_hub.started()) == sorted(r["id"] for r in done)
    wait_for(
        lambda: (
            "**deploy** on 2 agents: 2 succeeded"
            in [m["text"] for m in agent_hub.api("GET", "/api/v1/rooms/ops/messages")["messages"]]
        ),
        10,
        what="the group's roll-up card",
    )


def test_policy_one_picks_the_least_loaded_agent(agent_hub: AgentHub):
    agent_hub.agent("a1", "--slots", "2")
    agent_hub.agent("a2", "--slots", "2")
    agent_hub.job("crunch", "sleep 30")
    first = agent_hub.wait_run(agent_hub.run_now("crunch"), "running")
    second = agent_hub.wait_run(agent_hub.run_now("crunch"), "running")
    assert {first["host"], second["host"]} == {"a1", "a2"}


def test_a_job_at_its_concurrency_limit_queues_runs_with_their_position(agent_hub: AgentHub):
    agent_hub.agent("a1", "--slots", "3")
    agent_hub.job("export", "sleep 30", concurrency=1)
    first = agent_hub.run_now("export")
    second = agent_hub.run_now("export")
    third = agent_hub.run_now("export")
    agent_hub.wait_run(first, "running")
    queue = agent_hub.api("GET", "/api/v1/agents")["queue"]
    assert [(q["run_id"], q["position"]) for q in queue] == [(second, 1), (third, 2)]
    assert queue[0]["waiting_for"] == "the job runs at most 1 at once"
    assert agent_hub.run(second)["status"] == "queued"
    agent_hub.api("POST", f"/api/v1/runs/{first}/cancel")
    agent_hub.wait_run(second, "running")
    queue = agent_hub.api("GET", "/api/v1/agents")["queue"]
    assert [(q["run_id"], q["position"]) for q in queue] == [(third, 1)]


def test_an_agent_runs_no_more_than_its_slots_and_the_rest_wait(agent_hub: AgentHub):
    agent_hub.agent("a1", "--slots", "1")
    agent_hub.job("report", "sleep 2")
    first = agent_hub.run_now("report")
    second = agent_hub.run_now("report")
    agent_hub.wait_run(first, "running")
    [waiting] = agent_hub.api("GET", "/api/v1/agents")["queue"]
    assert (waiting["run_id"], waiting["waiting_for"]) == (second, "every matching agent is busy")
    agent_hub.wait_run(first, "succeeded")
    agent_hub.wait_run(second, "succeeded")
    assert agent_hub.started() == [first, second]


def test_a_run_with_no_matching_agent_waits_saying_why(agent_hub: AgentHub):
    agent_hub.agent("a1", "--tags", "linux")
    agent_hub.job("gpu-train", "true", tags=["gpu"])
    run_id = agent_hub.run_now("gpu-train")
    [waiting] = agent_hub.api("GET", "/api/v1/agents")["queue"]
    assert (waiting["run_id"], waiting["waiting_for"]) == (run_id, "no agent matches tags gpu")
    agent_hub.agent("g1", "--tags", "gpu")
    assert agent_hub.wait_run(run_id, "succeeded")["host"] == "g1"
