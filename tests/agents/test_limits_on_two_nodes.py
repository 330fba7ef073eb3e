"""Two hub nodes on PostgreSQL assigning at the same moment never exceed a job's
concurrency limit nor an agent's slots.

The race is forced, not waited for. Node A is armed with the pause point
`agents.before_claim` for one job (THEREYET_PAUSE, see docs/leases.md): an agent
registers through it, which makes a run of that job assignable in node A's
transaction only, and node A stops there, counted and chosen, before it claims.
Meanwhile the run that kept the last place ends through node B, and an agent polls
node B, which assigns at once. Without locks each node counts one free place and
both claim it; with them, node B leaves the job and agents node A is assigning alone.
Then node A goes on.

The agents here speak the agent protocol over HTTP as the test (no processes), so the
test decides when each one polls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.leases.hubs import call, nodes
from tests.servers import HubProcess, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
LONG = "300"  # agents lost after (s): the agents here poll only when the test says


@dataclass
class Fleet:
    """Agents registered with one agent token, polled by hand through either node."""

    token: str

    def register(self, node: HubProcess, name: str, *tags: str) -> None:
        body = {"name": name, "host": name, "slots": 1, "tags": list(tags)}
        status, found = node.request(
            "POST", "/api/v1/agents/register", body, token=self.token, timeout=90
        )
        assert status == 200, found

    def poll(self, node: HubProcess, name: str) -> list[str]:
        body = {"running": [], "wait": 0}
        status, found = node.request("POST", f"/api/v1/agents/{name}/poll", body, token=self.token)
        assert status == 200, found
        return [w["run_id"] for w in found["work"]]

    def start(self, node: HubProcess, name: str, run_id: str) -> str:
        """Start the run handed to agent `name`; the run's own token."""
        wait_for(lambda: run_id in self.poll(node, name), 30, what=f"{run_id} handed to {name}")
        path = f"/api/v1/agents/{name}/runs/{run_id}/start"
        status, found = node.request("POST", path, token=self.token)
        assert status == 200, found
        return str(found["token"])


def _run_now(node: HubProcess, job: str, **target: Any) -> str:
    """Set the job's target, `!run` it; the new run's id."""
    body = {"target": {"kind": "agent", "command": ["true"], **target}, "room": "ops"}
    call(node, "PUT", f"/api/v1/jobs/{job}/schedule", json=body)
    before = {r["id"] for r in call(node, "GET", f"/api/v1/runs?job={job}")["runs"]}
    call(node, "POST", "/api/v1/rooms/ops/messages", json={"text": f"!run {job}"})
    new = wait_for(
        lambda: [
            r for r in call(node, "GET", f"/api/v1/runs?job={job}")["runs"] if r["id"] not in before
        ],
        30,
        what=f"a run of {job}",
    )
    return str(new[0]["id"])


def _busy(node: HubProcess) -> dict[str, list[str]]:
    """Agent -> the jobs of the runs handed to it or running on it."""
    agents = call(node, "GET", "/api/v1/agents")["agents"]
    return {a["name"]: sorted(r["job"] for r in a["runs"]) for a in agents}


@dataclass
class Race:
    freeing: tuple[str, str]  # the run that keeps the last place, and its token
    held: Callable[[], None]  # the registration through node A that it is held in
    poller: str  # the agent that then polls node B
    over: Callable[[dict[str, list[str]]], bool]  # whether the limit is exceeded


def _job_limit(a: HubProcess, fleet: Fleet) -> Race:
    """`nightly` runs at most 1 at once. Its first run waits for agent x, busy with
    `warmup`; its second waits for agent y, which registers through node A."""
    fleet.register(a, "x")
    warmup = _run_now(a, "warmup", agent="x")
    token = fleet.start(a, "x", warmup)
    _run_now(a, "nightly", agent="x", concurrency=1)  # waits: x is busy
    _run_now(a, "nightly", agent="y", concurrency=1)  # waits: no agent y yet
    return Race(
        (warmup, token),
        lambda: fleet.register(a, "y"),
        "x",
        lambda busy: sum(jobs.count("nightly") for jobs in busy.values()) > 1,
    )


def _agent_slots(a: HubProcess, fleet: Fleet) -> Race:
    """Agent x has 1 slot. `report` (at most 1 at once, its run on agent w) has a run
    waiting for x; `export` has one for agents tagged `e`, and x registers again
    through node A with that tag."""
    fleet.register(a, "w")
    fleet.register(a, "x")
    first = _run_now(a, "report", agent="w", concurrency=1)
    token = fleet.start(a, "w", first)
    _run_now(a, "report", agent="x", concurrency=1)  # waits: report is at its limit
    _run_now(a, "export", tags=["e"])  # waits: no agent tagged e yet
    return Race(
        (first, token),
        lambda: fleet.register(a, "x", "e"),
        "w",
        lambda busy: len(busy.get("x", [])) > 1,
    )


@pytest.mark.parametrize(
    ("set_up", "held_job"),
    [(_job_limit, "nightly"), (_agent_slots, "export")],
    ids=["job-concurrency", "agent-slots"],
)
def test_two_nodes_assigning_at_once_keep_the_limit_exact(
    node_database: str, tmp_path: Path, set_up: Callable[..., Race], held_job: str
):
    gate = tmp_path / "gate"
    gate.mkdir()
    held = {
        "THEREYET_AGENT_LOST_AFTER": LONG,
        "THEREYET_PAUSE": f"agents.before_claim={held_job}",
        "THEREYET_PAUSE_DIR": str(gate),
    }
    with nodes(node_database, tmp_path, "node-a", "node-b") as (a, b):
        a.start(held)
        b.start({"THEREYET_AGENT_LOST_AFTER": LONG})
        fleet = Fleet(
            call(a, "POST", "/api/v1/tokens", json={"name": "f", "scope": "agent"})["token"]
        )
        race = set_up(a, fleet)
        registering = threading.Thread(target=race.held)
        registering.start()
        try:
            wait_for((gate / "agents.before_claim.reached").exists, 30, what="node A held")
            run_id, run_token = race.freeing
            done = {"status": "succeeded", "exit_code": 0}
            status, found = b.request(
                "POST", f"/api/v1/runs/{run_id}/finish", done, token=run_token
            )
            assert status == 200, found
            fleet.poll(b, race.poller)  # node B assigns now, while node A is held
            by_b = _busy(b)
        finally:
            (gate / "agents.before_claim.go").touch()
            registering.join(90)

        def handed_by_a() -> dict[str, list[str]] | None:
            found = _busy(b)
            return found if any(held_job in jobs for jobs in found.values()) else None

        busy = wait_for(handed_by_a, 30, what=f"node A handing out {held_job}")
    assert not race.over(busy), f"over the limit: {busy} (node B had handed out {by_b})"
