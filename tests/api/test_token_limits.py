"""Issue 11, findings 1-4: a credential reaches only what it names (both backends)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import as_token
from tests.web.conftest import add_user, sign_in


def make_token(client: TestClient, scope: str, **limits: list[str]) -> str:
    body = {"name": f"{scope} {sorted(limits.items())}", "scope": scope, **limits}
    response = client.post("/api/v1/tokens", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def share(client: TestClient, kind: str, target: str) -> str:
    response = client.post("/api/v1/shares", json={"kind": kind, "target": target})
    assert response.status_code == 201, response.text
    return str(response.json()["url"].rsplit("/", 1)[1])


def job_rooms(client: TestClient, job: str) -> list[str]:
    return list(client.get(f"/api/v1/jobs/{job}").json()["rooms"])


def run_count(client: TestClient, job: str) -> int:
    return len(client.get("/api/v1/runs", params={"job": job}).json()["runs"])


# -- 1. a job's rooms change only through an admin -----------------------------------------


def test_a_room_limited_token_cannot_take_over_a_job_of_another_room(client):
    client.post("/api/v1/runs", json={"job": "nightly-backup", "room": "secret"})
    ops = as_token(client, make_token(client, "ingest", rooms=["ops"]))

    refused = client.post(
        "/api/v1/runs", json={"job": "nightly-backup", "room": "ops"}, headers=ops
    )

    assert refused.status_code == 403
    assert refused.json()["field"] == "job"
    assert job_rooms(client, "nightly-backup") == ["secret"]
    assert run_count(client, "nightly-backup") == 1
    assert client.get("/api/v1/jobs/nightly-backup", headers=ops).status_code == 404


def test_a_limited_token_makes_new_jobs_only_in_its_rooms(client):
    ops = as_token(client, make_token(client, "ingest", rooms=["ops"]))

    elsewhere = client.post("/api/v1/runs", json={"job": "export", "room": "billing"}, headers=ops)
    nowhere = client.post("/api/v1/runs", json={"job": "export"}, headers=ops)
    mine = client.post("/api/v1/runs", json={"job": "export", "room": "ops"}, headers=ops)

    assert (elsewhere.status_code, nowhere.status_code, mine.status_code) == (403, 403, 201)
    assert job_rooms(client, "export") == ["ops"]
    # Once the job is in its room, later runs need not name the room again.
    again = client.post("/api/v1/runs", json={"job": "export"}, headers=ops)
    assert again.status_code == 201


def test_a_token_limited_to_a_job_starts_runs_of_that_job_only(client):
    client.post("/api/v1/runs", json={"job": "payroll", "room": "secret"})
    only = as_token(client, make_token(client, "ingest", jobs=["export"]))

    assert client.post("/api/v1/runs", json={"job": "export"}, headers=only).status_code == 201
    assert client.post("/api/v1/runs", json={"job": "payroll"}, headers=only).status_code == 403
    assert run_count(client, "payroll") == 1


def test_only_an_admin_adds_a_room_to_an_existing_job(client):
    client.post("/api/v1/runs", json={"job": "export", "room": "ops"})
    anyone = as_token(client, make_token(client, "ingest"))

    by_ingest = client.post("/api/v1/runs", json={"job": "export", "room": "data"}, headers=anyone)
    assert by_ingest.status_code == 403
    assert "only an admin" in by_ingest.json()["error"]
    assert job_rooms(client, "export") == ["ops"]

    assert client.post("/api/v1/runs", json={"job": "export", "room": "data"}).status_code == 201
    assert job_rooms(client, "export") == ["data", "ops"]


def test_a_repeated_run_id_does_not_show_a_run_outside_the_limits(client):
    client.post("/api/v1/runs", json={"job": "payroll", "room": "secret", "id": "r-payroll-1"})
    ops = as_token(client, make_token(client, "ingest", rooms=["ops"]))

    again = client.post("/api/v1/runs", json={"job": "payroll", "id": "r-payroll-1"}, headers=ops)
    assert again.status_code == 404


# -- 2. ping URLs only to those who may write the job -----------------------------------------


@pytest.fixture
def scheduled(client: TestClient) -> dict[str, Any]:
    client.post("/api/v1/runs", json={"job": "nightly-backup", "room": "ops"})
    put = client.put("/api/v1/jobs/nightly-backup/schedule", json={"schedule": "0 3 * * *"})
    assert put.status_code == 200, put.text
    ping_url = client.get("/api/v1/jobs/nightly-backup/schedule").json()["ping_url"]
    assert "/ping/" in ping_url and ping_url.startswith("http")  # absolute, ready to paste
    return {"ping_url": ping_url}


def _schedule(client: TestClient, **call: Any) -> Any:
    return client.get("/api/v1/jobs/nightly-backup/schedule", **call)


def test_a_ping_url_is_shown_to_tokens_that_may_write_the_job(client, scheduled):
    for token in (make_token(client, "ingest"), make_token(client, "ingest", rooms=["ops"])):
        view = _schedule(client, headers=as_token(client, token)).json()
        assert view["ping_url"] == scheduled["ping_url"]


def test_a_ping_url_is_never_shown_to_readers_share_links_or_run_tokens(client, scheduled):
    read = _schedule(client, headers=as_token(client, make_token(client, "read")))
    assert read.status_code == 200 and "ping_url" not in read.json()
    for kind, target in (("job", "nightly-backup"), ("room", "ops")):
        link = share(client, kind, target)
        shared = _schedule(client, headers=as_token(client, None), params={"share": link})
        assert shared.status_code == 200 and "ping_url" not in shared.json()
        assert scheduled["ping_url"] not in shared.text
    other = _schedule(client, headers=as_token(client, make_token(client, "ingest", rooms=["x"])))
    assert other.status_code == 404


def test_a_ping_url_is_shown_to_operators_and_not_to_viewers(client, scheduled):
    for role in ("operator", "viewer"):
        add_user(client, role, role)
        person = TestClient(client.app, raise_server_exceptions=False)
        sign_in(person, role)
        view = _schedule(person).json()
        assert ("ping_url" in view) is (role == "operator")
        page = person.get("/jobs/nightly-backup")
        assert (scheduled["ping_url"] in page.text) is (role == "operator")


# -- 3. incident writes inside token limits ---------------------------------------------------


@pytest.fixture
def services(client: TestClient) -> dict[str, int]:
    for name, room in (("web", "ops"), ("payroll", "secret")):
        assert client.post("/api/v1/rooms", json={"name": room}).status_code in (200, 201)
        put = client.put(f"/api/v1/oncall/services/{name}", json={"room": room})
        assert put.status_code == 200, put.text
    opened = client.post("/api/v1/incidents", json={"service": "payroll", "summary": "down"})
    assert opened.status_code == 201, opened.text
    return {"payroll": opened.json()["id"]}


def test_a_room_limited_token_opens_incidents_only_on_services_of_its_rooms(client, services):
    ops = as_token(client, make_token(client, "ingest", rooms=["ops"]))
    other = client.post(
        "/api/v1/incidents", json={"service": "payroll", "summary": "fake"}, headers=ops
    )
    assert other.status_code == 403 and other.json()["field"] == "service"
    mine = client.post("/api/v1/incidents", json={"service": "web", "summary": "slow"}, headers=ops)
    assert mine.status_code == 201
    listed = client.get("/api/v1/incidents", headers=ops).json()["incidents"]
    assert [i["service"] for i in listed] == ["web"]


def test_a_room_limited_token_cannot_acknowledge_or_resolve_other_incidents(client, services):
    number = services["payroll"]
    ops = as_token(client, make_token(client, "ingest", rooms=["ops"]))
    for action in ("acknowledge", "resolve"):
        refused = client.post(f"/api/v1/incidents/{number}/{action}", headers=ops)
        assert refused.status_code == 404
    assert client.get(f"/api/v1/incidents/{number}").json()["status"] == "triggered"


def test_a_run_token_opens_and_acts_on_no_incident(client, services):
    from thereyet.server.services.tokens import issue_run_token

    run = client.post("/api/v1/runs", json={"job": "j", "room": "ops"})
    hub = client.app.state.hub  # type: ignore[attr-defined]
    token = as_token(client, hub.writer.run_sync(lambda tx: issue_run_token(tx, run.json()["id"])))
    opened = client.post(
        "/api/v1/incidents", json={"service": "web", "summary": "x"}, headers=token
    )
    assert opened.status_code == 403
    acked = client.post(f"/api/v1/incidents/{services['payroll']}/acknowledge", headers=token)
    assert acked.status_code == 403


def answer_to(client: TestClient, room: str, after: int, words: str) -> str:
    """The hub's first message in `room` after message `after` that contains `words`."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = client.get(f"/api/v1/rooms/{room}/messages", params={"after": after}).json()
        for message in found["messages"]:
            if words in message["text"]:
                return str(message["text"])
        time.sleep(0.05)  # the command runs in the hub's own task; wait for its answer
    raise AssertionError(f"no answer containing {words!r}")


def test_chat_ack_and_resolve_by_a_limited_token_leave_other_incidents_alone(client, services):
    number = services["payroll"]
    ops = as_token(client, make_token(client, "ingest", rooms=["ops"]))
    for verb in ("ack", "resolve"):
        said = client.post(
            "/api/v1/rooms/ops/messages", json={"text": f"!{verb} {number}"}, headers=ops
        )
        assert said.status_code == 201, said.text
        assert f"no incident {number}" in answer_to(client, "ops", said.json()["id"], "failed")
    assert client.get(f"/api/v1/incidents/{number}").json()["status"] == "triggered"


# -- 4. share links only on the routes their page needs ----------------------------------------


def test_a_room_share_link_reads_its_room_and_nothing_of_on_call(client, services):
    client.post("/api/v1/rooms/ops/messages", json={"text": "in ops"})
    client.post("/api/v1/rooms/secret/messages", json={"text": "in secret"})
    link = {"share": share(client, "room", "ops")}
    nobody = as_token(client, None)

    def get(path: str) -> int:
        return client.get(path, params=link, headers=nobody).status_code

    assert get("/api/v1/rooms/ops/messages") == 200
    assert get("/api/v1/rooms/secret/messages") == 404
    for path in (
        "/api/v1/incidents",
        f"/api/v1/incidents/{services['payroll']}",
        "/api/v1/oncall/people",
        "/api/v1/oncall/rotations",
        "/api/v1/oncall/policies",
        "/api/v1/oncall/services",
        "/api/v1/oncall/reports/2026-03",
        "/api/v1/search?q=secret",
        "/api/v1/commands/runs",
        "/api/v1/tokens",
        "/oncall/report",
    ):
        assert get(path) == 403, path


def test_a_job_share_link_reads_its_job_runs_only(client):
    mine = client.post("/api/v1/runs", json={"job": "export", "room": "ops"}).json()
    other = client.post("/api/v1/runs", json={"job": "payroll", "room": "ops"}).json()
    link = {"share": share(client, "job", "export")}
    nobody = as_token(client, None)

    def get(path: str) -> int:
        return client.get(path, params=link, headers=nobody).status_code

    assert get(f"/api/v1/runs/{mine['id']}") == 200
    assert get(f"/api/v1/runs/{other['id']}") == 404
    assert get("/api/v1/rooms/ops/messages") == 403
    listed = client.get("/api/v1/runs", params=link, headers=nobody).json()["runs"]
    assert [r["job"] for r in listed] == ["export"]


def test_chat_run_by_a_limited_token_starts_no_job_outside_its_limits(client, services):
    client.post("/api/v1/runs", json={"job": "payroll", "room": "secret"})
    target = {"target": {"kind": "http", "url": "http://127.0.0.1:9/start"}}
    assert client.put("/api/v1/jobs/payroll/schedule", json=target).status_code == 200
    ops = as_token(client, make_token(client, "ingest", rooms=["ops"]))

    said = client.post("/api/v1/rooms/ops/messages", json={"text": "!run payroll"}, headers=ops)

    assert said.status_code == 201, said.text
    assert "no job named 'payroll'" in answer_to(client, "ops", said.json()["id"], "failed")
    assert run_count(client, "payroll") == 1
