"""An agent name belongs to a credential, through the real app on SQLite and PostgreSQL:
a token made for one name registers only that name; a fleet token holds each name it
registered until an admin removes the agent or the token is revoked; revoking it loses
its agents at once."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.conftest import as_token
from tests.servers import wait_for


def _token(client: TestClient, **extra: Any) -> tuple[str, dict[str, str]]:
    made = client.post("/api/v1/tokens", json={"name": "agents", "scope": "agent", **extra})
    assert made.status_code == 201, made.text
    return made.json()["id"], as_token(client, made.json()["token"])


def _register(client: TestClient, auth: dict[str, str], name: str) -> Any:
    body = {"name": name, "host": f"{name}.example", "tags": ["linux"], "slots": 1}
    return client.post("/api/v1/agents/register", json=body, headers=auth)


def _poll(client: TestClient, auth: dict[str, str], name: str) -> Any:
    return client.post(f"/api/v1/agents/{name}/poll", json={"wait": 0}, headers=auth)


def _state(client: TestClient, name: str) -> str | None:
    found = [a for a in client.get("/api/v1/agents").json()["agents"] if a["name"] == name]
    return found[0]["state"] if found else None


def test_a_token_made_for_one_agent_registers_that_name_only(client: TestClient):
    token_id, auth = _token(client, agent="db-2")
    listed = [t for t in client.get("/api/v1/tokens").json()["tokens"] if t["id"] == token_id]
    assert listed[0]["agent"] == "db-2"
    assert _register(client, auth, "db-2").status_code == 200
    refused = _register(client, auth, "db-3")
    assert (refused.status_code, refused.json()["field"]) == (403, "name")
    assert refused.json()["error"] == "this agent token is for agent 'db-2' only"
    assert _state(client, "db-3") is None
    assert _poll(client, auth, "db-3").status_code == 403


def test_only_agent_tokens_are_made_for_an_agent_and_only_for_a_valid_name(client: TestClient):
    body = {"name": "x", "scope": "ingest", "agent": "db-2"}
    wrong_scope = client.post("/api/v1/tokens", json=body)
    assert (wrong_scope.status_code, wrong_scope.json()["field"]) == (422, "agent")
    bad_name = client.post("/api/v1/tokens", json={**body, "scope": "agent", "agent": "DB 2"})
    assert (bad_name.status_code, bad_name.json()["field"]) == (422, "agent")


def test_a_fleet_token_holds_the_names_it_registered_until_an_admin_removes_the_agent(
    client: TestClient,
):
    _, fleet = _token(client)
    _, other = _token(client)
    assert _register(client, fleet, "web-1").status_code == 200
    assert _register(client, fleet, "web-1").status_code == 200  # its own: again, at will
    taken = _register(client, other, "web-1")
    assert (taken.status_code, taken.json()["field"]) == (409, "name")
    assert "belongs to another token" in taken.json()["error"]
    assert _poll(client, other, "web-1").status_code == 409  # nor poll as it
    assert _poll(client, fleet, "web-1").status_code == 200
    not_admin = client.delete("/api/v1/agents/web-1", headers=fleet)
    assert not_admin.status_code == 403
    assert client.delete("/api/v1/agents/web-1").status_code == 204
    assert client.delete("/api/v1/agents/web-1").status_code == 404
    assert _register(client, other, "web-1").status_code == 200
    assert _poll(client, fleet, "web-1").status_code == 409  # the name went to the other token


def test_revoking_the_holding_token_loses_its_agents_at_once_and_frees_their_names(
    client: TestClient,
):
    fleet_id, fleet = _token(client)
    _, other = _token(client)
    assert _register(client, fleet, "a1").status_code == 200
    assert _register(client, other, "b1").status_code == 200
    body = {"target": {"kind": "agent", "command": ["true"], "agent": "a1"}, "room": "ops"}
    assert client.put("/api/v1/jobs/backup/schedule", json=body).status_code == 200
    client.post("/api/v1/rooms/ops/messages", json={"text": "!run backup"})
    [offer] = wait_for(lambda: _poll(client, fleet, "a1").json()["work"], 10, what="work")
    started = client.post(f"/api/v1/agents/a1/runs/{offer['run_id']}/start", headers=fleet)
    assert started.status_code == 200
    assert client.delete(f"/api/v1/tokens/{fleet_id}").status_code == 204
    assert (_state(client, "a1"), _state(client, "b1")) == ("lost", "online")
    assert client.get(f"/api/v1/runs/{offer['run_id']}").json()["status"] == "lost"
    assert _register(client, other, "a1").status_code == 200  # the name is free again
    assert _state(client, "a1") == "online"
