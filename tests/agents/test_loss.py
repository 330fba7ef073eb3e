"""Losing agents: a killed agent's run is lost and retried on another; an agent that
comes back keeps its run; a hub restart stops no run and starts none twice."""

from __future__ import annotations

import time

import pytest

from tests.agents.harness import LOST_AFTER, AgentHub
from tests.servers import wait_for

pytestmark = pytest.mark.slow
# Lost after LOST_AFTER s of silence, seen within a tick (0.25 s), retried with no delay
# and handed out within a poll (1 s here): the documented bound, with room for a loaded
# machine.
RETRY_WITHIN = LOST_AFTER + 1.5 + 3.0


def test_an_agent_killed_mid_run_has_its_run_lost_and_retried_on_another(agent_hub: AgentHub):
    first = agent_hub.agent("a1")
    agent_hub.job("nightly", "sleep 2; echo done", retries=1)
    run_id = agent_hub.run_now("nightly")
    agent_hub.wait_run(run_id, "running")
    agent_hub.agent("a2")
    first.kill()
    killed = time.monotonic()
    lost = agent_hub.wait_run(run_id, "lost", timeout=RETRY_WITHIN)
    assert lost["host"] == "a1"
    retry = wait_for(
        lambda: [
            r for r in agent_hub.runs("nightly") if r["id"] != run_id and r["status"] == "running"
        ],
        RETRY_WITHIN,
        what="the retry running",
    )[0]
    took = time.monotonic() - killed
    assert (retry["host"], retry["trigger"]) == ("a2", "retry")
    assert took < RETRY_WITHIN
    assert agent_hub.wait_run(retry["id"], "succeeded")["log_tail"] == ["done"]
    assert agent_hub.agent_state("a1") == "lost"
    print(f"killed -> retry running on a2: {took:.1f} s (lost after {LOST_AFTER} s)")


def test_a_lost_run_without_retries_stays_lost(agent_hub: AgentHub):
    first = agent_hub.agent("a1")
    agent_hub.agent("a2", "--tags", "other")
    agent_hub.job("once", "sleep 30")
    run_id = agent_hub.run_now("once")
    agent_hub.wait_run(run_id, "running")
    first.kill()
    agent_hub.wait_run(run_id, "lost", timeout=RETRY_WITHIN)
    assert [r["id"] for r in agent_hub.runs("once")] == [run_id]


def test_an_agent_that_comes_back_keeps_its_run_and_the_waiting_retry_is_cancelled(
    agent_hub: AgentHub,
):
    agent = agent_hub.agent("a1")
    agent_hub.job("migrate", "sleep 8; echo migrated", retries=2)
    run_id = agent_hub.run_now("migrate")
    agent_hub.wait_run(run_id, "running")
    agent.pause()  # silent, as behind a broken network: its command goes on
    agent_hub.wait_run(run_id, "lost", timeout=RETRY_WITHIN)
    retry = wait_for(
        lambda: [r for r in agent_hub.runs("migrate") if r["id"] != run_id],
        10,
        what="a retry queued",
    )[0]
    assert retry["status"] == "queued"  # no other agent matches
    agent.resume()
    assert agent_hub.wait_run(retry["id"], "cancelled")["error"].startswith("not needed")
    done = agent_hub.wait_run(run_id, "succeeded", timeout=30)
    assert done["log_tail"] == ["migrated"]
    assert agent_hub.started() == [run_id]


def test_a_hub_killed_and_restarted_loses_no_run_and_starts_none_twice(agent_hub: AgentHub):
    agent_hub.agent("a1", "--slots", "2")
    agent_hub.agent("a2", "--slots", "2")
    agent_hub.job("league", "sleep 6; echo 2/2", retries=1)
    runs = [agent_hub.run_now("league") for _ in range(3)]
    for run_id in runs:
        agent_hub.wait_run(run_id, "running")
    agent_hub.hub.kill()
    time.sleep(1.0)  # an outage of a second or so: the commands go on meanwhile
    agent_hub.hub.start()
    for run_id in runs:
        assert agent_hub.wait_run(run_id, "succeeded", "failed", "lost", timeout=40)["status"] == (
            "succeeded"
        )
    assert sorted(agent_hub.started()) == sorted(runs)
    assert sorted(r["id"] for r in agent_hub.runs("league")) == sorted(runs)
