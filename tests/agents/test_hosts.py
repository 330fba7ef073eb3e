"""Three agents as three hosts, each in a network namespace of its own that reaches the
hub only through a relay on its link: targeting by tags, one and all; a host whose
network is cut is lost, its run retried on another host, and it is reconciled when the
network heals."""

from __future__ import annotations

import pytest

from tests.agents.harness import AgentHub
from tests.agents.netns import net_hosts
from tests.servers import wait_for

pytestmark = pytest.mark.slow


def test_three_hosts_in_their_own_networks_targeted_by_tags_one_and_all(agent_hub: AgentHub):
    with net_hosts(3, agent_hub.hub.port) as (one, two, three):
        for name, host, tags in (
            ("h1", one, "linux,db"),
            ("h2", two, "linux"),
            ("h3", three, "db"),
        ):
            agent_hub.agent(name, "--tags", tags, url=host.hub_url, prefix=host.prefix)
        agent_hub.job("backup", "echo 1/1", tags=["linux", "db"])
        assert agent_hub.wait_run(agent_hub.run_now("backup"), "succeeded")["host"] == "h1"
        agent_hub.job("deploy", "echo deployed", tags=["linux"], policy="all")
        agent_hub.run_now("deploy")
        done = agent_hub.wait_all("deploy", 2)
        assert sorted(r["host"] for r in done) == ["h1", "h2"]
        for agent in agent_hub.agents:
            agent.stop()


def test_a_host_whose_network_is_cut_is_lost_retried_elsewhere_and_reconciled(
    agent_hub: AgentHub,
):
    with net_hosts(2, agent_hub.hub.port) as hosts:
        for name, host in zip(("h1", "h2"), hosts, strict=True):
            agent_hub.agent(name, "--tags", "db", url=host.hub_url, prefix=host.prefix)
        agent_hub.job("migrate", "echo begin; sleep 10; echo done", tags=["db"], retries=1)
        first = agent_hub.run_now("migrate")
        where = agent_hub.wait_run(first, "running")["host"]
        cut = hosts[0] if where == "h1" else hosts[1]
        cut.cut()
        agent_hub.wait_run(first, "lost", timeout=15)
        retry = wait_for(
            lambda: [r for r in agent_hub.runs("migrate") if r["id"] != first and r["host"]],
            20,
            what="the retry started on the other host",
        )[0]
        assert retry["host"] != where
        cut.heal()
        # Back, it names the run it still runs; the retry has started, so it stops its own.
        assert agent_hub.wait_run(first, "cancelled", timeout=40)["host"] == where
        assert agent_hub.wait_run(retry["id"], "succeeded", timeout=30)["log_tail"][-1] == "done"
        assert sorted(agent_hub.started()) == sorted([first, retry["id"]])
        for agent in agent_hub.agents:
            agent.stop()
