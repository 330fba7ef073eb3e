"""The agent protocol through the real app on SQLite and PostgreSQL, time on a FakeClock:
register, poll, start (once), loss after `agent_lost_after` and the retry after its
delay, reconciliation, and bad input answered with the field and the reason."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.conftest import as_token
from tests.servers import wait_for
from thereyet.server.clock import FakeClock
from thereyet.server.services.agent_loss import AgentLoss

LOST_AFTER = 30.0  # the default


def _agent_token(client: TestClient) -> dict[str, str]:
    made = client.post("/api/v1/tokens", json={"name": "agents", "scope": "agent"}).json()
    return as_token(client, made["token"])


def _register(client: TestClient, auth: dict[str, str], name: str, **extra: Any) -> Any:
    body = {"name": name, "host": f"{name}.example", "tags": ["linux"], "slots": 1, **extra}
    answer = client.post("/api/v1/agents/register", json=body, headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _job(client: TestClient, name: str, **target: Any) -> None:
    body = {"target": {"kind": "agent", "command": ["true"], **target}, "room": "ops"}
    assert client.put(f"/api/v1/jobs/{name}/schedule", json=body).status_code == 200


def _start_job(client: TestClient, job: str) -> str:
    client.post("/api/v1/rooms/ops/messages", json={"text": f"!run {job}"})
    runs = wait_for(lambda: client.get(f"/api/v1/runs?job={job}").json()["runs"], 10)
    return str(runs[0]["id"])


def _poll(client: TestClient, auth: dict[str, str], name: str, running=()) -> Any:
    body = {"running": list(running), "wait": 0}
    answer = client.post(f"/api/v1/agents/{name}/poll", json=body, headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _poll_until_work(client: TestClient, auth: dict[str, str], name: str) -> list[Any]:
    return wait_for(lambda: _poll(client, auth, name)["work"], 10, what=f"work for {name}")


def test_a_run_handed_to_an_agent_starts_once_with_a_token_for_that_run_only(client: TestClient):
    auth = _agent_token(client)
    _register(client, auth, "a1")
    _job(client, "backup", command=["/opt/backup", "--full"], env={"MODE": "x"}, time_limit=60)
    run_id = _start_job(client, "backup")
    [offer] = _poll_until_work(client, auth, "a1")
    assert offer == {
        "run_id": run_id,
        "job": "backup",
        "command": ["/opt/backup", "--full"],
        "shell": False,
        "cwd": None,
        "env": {"MODE": "x"},
        "time_limit": 60.0,
        "attempt": 1,
    }
    started = client.post(f"/api/v1/agents/a1/runs/{run_id}/start", headers=auth)
    assert started.status_code == 200
    again = client.post(f"/api/v1/agents/a1/runs/{run_id}/start", headers=auth)
    assert again.status_code == 409 and "not handed to agent a1" in again.json()["error"]
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["host"]) == ("running", "a1")
    run_auth = as_token(client, started.json()["token"])
    finish = {"status": "succeeded", "exit_code": 0}
    assert (
        client.post(f"/api/v1/runs/{run_id}/finish", json=finish, headers=run_auth).status_code
        == 200
    )
    assert client.get("/api/v1/runs", headers=run_auth).status_code == 200  # its own run only
    assert client.get("/api/v1/agents", headers=run_auth).status_code == 403


def test_a_silent_agent_is_lost_after_lost_after_and_its_run_retried_after_the_delay(
    client: TestClient, clock: FakeClock
):
    auth = _agent_token(client)
    _register(client, auth, "a1")
    _job(client, "nightly", retries=1, retry_delay=60)
    run_id = _start_job(client, "nightly")
    _poll_until_work(client, auth, "a1")
    client.post(f"/api/v1/agents/a1/runs/{run_id}/start", headers=auth)
    clock.advance(LOST_AFTER - 1)
    _poll(client, auth, "a1", [run_id])  # still heard from
    clock.advance(LOST_AFTER - 1)
    assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "running"
    clock.advance(2)
    wait_for(lambda: client.get(f"/api/v1/runs/{run_id}").json()["status"] == "lost", 10)
    overview = client.get("/api/v1/agents").json()
    assert overview["agents"][0]["state"] == "lost"
    [retry] = overview["queue"]
    assert (retry["attempt"], retry["waiting_for"]) == (2, "retry in 60 s")
    _register(client, auth, "a2")
    assert _poll(client, auth, "a2")["work"] == []  # not before its delay
    clock.advance(60)
    [offer] = _poll_until_work(client, auth, "a2")
    assert (offer["run_id"], offer["attempt"]) == (retry["run_id"], 2)


def test_a_node_slow_to_start_counts_no_silence_before_its_first_look(
    client: TestClient, clock: FakeClock
):
    """A node is built, then takes long to start (a loaded machine, a slow store): the
    agents could not reach it meanwhile, so they are lost only `lost_after` after its
    workers first look, not after it was built."""
    auth = _agent_token(client)
    _register(client, auth, "a1")
    app: Any = client.app
    agents = app.state.agents
    assert client.portal is not None
    # The test takes the assigner's steps itself: the hub's own would look at the
    # clock before it is moved (a tick in flight when the node is "built").
    client.portal.call(app.state.timely_workers.stop)
    client.portal.call(app.state.hub.writer.run, lambda tx: None)  # what it handed in is done
    agents.loss = AgentLoss(app.state.hub, app.state.runs, agents.queue_run)  # built now

    def state_after(seconds: float) -> str:
        clock.advance(seconds)
        client.portal.call(agents.step, clock.now())  # type: ignore[union-attr]
        return str(client.get("/api/v1/agents").json()["agents"][0]["state"])

    assert state_after(LOST_AFTER * 3) == "online"  # its first look, long after
    assert state_after(LOST_AFTER - 1) == "online"
    assert state_after(2) == "lost"


def test_a_run_its_agent_no_longer_names_is_lost(client: TestClient, clock: FakeClock):
    auth = _agent_token(client)
    _register(client, auth, "a1")
    _job(client, "nightly")
    run_id = _start_job(client, "nightly")
    _poll_until_work(client, auth, "a1")
    client.post(f"/api/v1/agents/a1/runs/{run_id}/start", headers=auth)
    clock.advance(10)
    _poll(client, auth, "a1", [])  # restarted: it runs nothing
    assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "lost"


def test_an_agent_is_told_to_stop_a_run_that_is_not_its_own(client: TestClient):
    auth = _agent_token(client)
    _register(client, auth, "a1")
    stranger = "f" * 32
    assert _poll(client, auth, "a1", [stranger])["cancel"] == [stranger]


def test_polling_before_registering_is_refused(client: TestClient):
    auth = _agent_token(client)
    answer = client.post("/api/v1/agents/ghost/poll", json={"running": []}, headers=auth)
    assert answer.status_code == 404 and "register first" in answer.json()["error"]


def test_bad_agent_input_is_refused_naming_the_field(client: TestClient):
    auth = _agent_token(client)
    bad = client.post("/api/v1/agents/register", json={"name": "A B", "host": "h"}, headers=auth)
    assert bad.status_code == 422 and "name" in bad.text
    slots = client.post(
        "/api/v1/agents/register", json={"name": "a1", "host": "h", "slots": 0}, headers=auth
    )
    assert slots.status_code == 422 and "slots" in slots.text
    target = {"kind": "agent", "command": ["a", "b"], "shell": True}
    answer = client.put("/api/v1/jobs/x/schedule", json={"target": target})
    assert answer.status_code == 422
    assert answer.json()["field"] == "target.command"
    for target, field in (
        ({"kind": "agent", "command": []}, "target.command"),
        ({"kind": "agent", "command": ["ls"], "agent": "Not A Name"}, "target.agent"),
        ({"kind": "agent", "command": ["ls"], "policy": "most"}, "target.policy"),
        ({"kind": "telnet", "command": ["ls"]}, "target.kind"),
    ):
        answer = client.put("/api/v1/jobs/x/schedule", json={"target": target})
        assert (answer.status_code, answer.json()["field"]) == (422, field), answer.text
    env = {"kind": "agent", "command": ["ls"], "env": {"THEREYET_RUN_ID": "x"}}
    answer = client.put("/api/v1/jobs/x/schedule", json={"target": env})
    assert (answer.status_code, answer.json()["field"]) == (422, "target.env")


def test_agents_in_chat_lists_agents_their_runs_and_the_queue(client: TestClient):
    auth = _agent_token(client)
    _register(client, auth, "a1", tags=["linux", "db"])
    _job(client, "backup")
    _job(client, "gpu-train", tags=["gpu"])
    first = _start_job(client, "backup")
    queued = _start_job(client, "gpu-train")
    _poll_until_work(client, auth, "a1")
    client.post(f"/api/v1/agents/a1/runs/{first}/start", headers=auth)
    client.post("/api/v1/rooms/ops/messages", json={"text": "!agents"})

    def answer() -> str | None:
        messages = client.get("/api/v1/rooms/ops/messages").json()["messages"]
        found = [m["text"] for m in messages if m["text"].startswith("- a1")]
        return found[0] if found else None

    text = wait_for(answer, 10, what="the answer to !agents")
    assert text.splitlines() == [
        f"- a1 on a1.example (db, linux): online, 1/1 slots: backup `{first}`",
        f"- queued #1: gpu-train `{queued}` (no agent matches tags gpu)",
    ]
