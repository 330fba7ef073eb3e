"""The healthchecks-compatible ping API, called the way healthchecks' docs call it
(curl one-liners: HEAD, GET or POST, ?rid=, ?create=1, the body as the log)."""

from __future__ import annotations

import uuid

import pytest
from starlette.testclient import TestClient

from thereyet.server.clock import FakeClock
from thereyet.server.config import Settings
from thereyet.server.configfile.secrets import Resolver
from thereyet.server.configfile.service import ConfigService
from thereyet.server.domain.ratelimit import Rate
from thereyet.server.hub import Hub
from thereyet.server.services.pings import PING_BODY_LIMIT
from thereyet.server.services.rate_buckets import SharedBuckets


@pytest.fixture
def check(client: TestClient) -> str:
    """A job with a ping URL: /ping/<uuid>."""
    response = client.put("/api/v1/jobs/backup/schedule", json={"room": "ops"})
    assert response.status_code == 200, response.text
    url: str = response.json()["ping_url"]
    return url


def runs(client: TestClient, job: str = "backup") -> list[dict]:
    return client.get("/api/v1/runs", params={"job": job}).json()["runs"]


def log_texts(client: TestClient, run_id: str) -> list[str]:
    events = client.get(f"/api/v1/runs/{run_id}/events").json()["events"]
    return [e["text"] for e in events if e["type"] == "log"]


def test_a_success_ping_answers_ok_and_records_a_finished_run(client, check):
    response = client.get(check, headers={"Authorization": ""})
    assert (response.status_code, response.text) == (200, "OK")
    assert response.headers["Ping-Body-Limit"] == str(PING_BODY_LIMIT)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["content-type"].startswith("text/plain")
    [run] = runs(client)
    assert (run["status"], run["trigger"]) == ("succeeded", "ping")


def test_start_then_success_measures_the_run(client, check, clock: FakeClock):
    assert client.get(f"{check}/start").text == "OK"
    [run] = runs(client)
    assert run["status"] == "running"
    clock.advance(42)
    assert client.head(check).status_code == 200
    [run] = runs(client)
    assert (run["status"], run["elapsed"]) == ("succeeded", 42.0)


def test_head_answers_without_a_body(client, check):
    response = client.head(f"{check}/start")
    assert (response.status_code, response.content) == (200, b"")


def test_fail_and_exit_statuses(client, check, clock: FakeClock):
    assert client.post(f"{check}/fail", content=b"disk full").status_code == 200
    clock.advance(1)
    assert client.get(f"{check}/0").status_code == 200
    clock.advance(1)
    assert client.get(f"{check}/3").status_code == 200
    statuses = [(r["status"], r["exit_code"]) for r in reversed(runs(client))]
    assert statuses == [("failed", None), ("succeeded", 0), ("failed", 3)]
    bad = client.get(f"{check}/256")
    assert (bad.status_code, bad.text) == (400, "invalid url format")


def test_the_request_body_is_kept_as_the_log_up_to_the_limit(client, check):
    client.post(f"{check}/start")
    output = "certbot: renewing\n" + "x" * (PING_BODY_LIMIT + 500)
    assert client.post(f"{check}/log", content=output.encode()).status_code == 200
    assert client.post(check, content=b"all done").status_code == 200
    [run] = runs(client)
    texts = log_texts(client, run["id"])
    assert len(texts[0].encode()) == PING_BODY_LIMIT
    assert texts[0].startswith("certbot: renewing")
    assert texts[1] == "all done"
    assert run["status"] == "succeeded"


def test_run_ids_keep_overlapping_runs_apart(client, check, clock: FakeClock):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    client.get(f"{check}/start?rid={first}")
    clock.advance(10)
    client.get(f"{check}/start?rid={second}")
    clock.advance(10)
    client.get(f"{check}/fail?rid={first}")
    clock.advance(10)
    client.get(f"{check}?rid={second}")
    client.get(f"{check}?rid={second}")  # a retried end changes nothing
    by_id = {r["id"]: r for r in runs(client)}
    assert len(by_id) == 2
    assert (by_id[uuid.UUID(first).hex]["status"], by_id[uuid.UUID(first).hex]["elapsed"]) == (
        "failed",
        20.0,
    )
    assert (by_id[uuid.UUID(second).hex]["status"], by_id[uuid.UUID(second).hex]["elapsed"]) == (
        "succeeded",
        20.0,
    )
    bad = client.get(f"{check}/start?rid=not-a-uuid")
    assert (bad.status_code, bad.text) == (400, "invalid uuid format")


def test_a_run_id_of_another_job_is_a_conflict(client, check):
    rid = str(uuid.uuid4())
    client.get(f"{check}/start?rid={rid}")
    other = client.put("/api/v1/jobs/other/schedule", json={}).json()["ping_url"]
    response = client.get(f"{other}/start?rid={rid}")
    assert response.status_code == 409
    assert len(runs(client, "other")) == 0


def test_unknown_checks_and_urls_are_not_found(client, check):
    for path in (f"/ping/{uuid.uuid4()}", f"{check}/explode", f"{check}/start/again", "/ping/"):
        response = client.get(path)
        assert (response.status_code, response.text) == (404, "not found"), path


def test_slug_urls_with_a_ping_key_and_auto_provisioning(client):
    key = client.post("/api/v1/ping-keys", json={"name": "servers"}).json()["key"]
    assert client.get(f"/ping/{key}/srv01").status_code == 404
    created = client.get(f"/ping/{key}/srv01/start?create=1")
    assert (created.status_code, created.text) == (201, "Created")
    again = client.get(f"/ping/{key}/srv01?create=1")
    assert (again.status_code, again.text) == (200, "OK")
    [run] = runs(client, "srv01")
    assert run["status"] == "succeeded"
    assert client.get(f"/ping/{key}/srv01/1").status_code == 200
    assert client.get("/ping/wrong-key/srv01").status_code == 404
    assert client.get(f"/ping/{key}/Not_A_Slug!?create=1").status_code == 400
    key_id = client.get("/api/v1/ping-keys").json()["ping_keys"][0]["id"]
    assert client.delete(f"/api/v1/ping-keys/{key_id}").status_code == 204
    assert client.get(f"/ping/{key}/srv01").status_code == 404


def test_a_ping_key_removed_from_the_files_is_refused_at_once(client):
    files = {"keys.toml": "[ping_keys.servers]\n"}
    done = client.post("/api/v1/config/apply", json={"files": files}).json()
    [key] = [s["key"] for s in done["secrets"] if s["kind"] == "ping_keys"]
    assert client.get(f"/ping/{key}/srv01?create=1").status_code == 201
    assert client.get(f"/ping/{key}/srv01").status_code == 200  # the key is remembered
    pruned = {"files": {"keys.toml": "# no keys\n"}, "prune": True}
    assert client.post("/api/v1/config/apply", json=pruned).status_code == 200
    assert client.get(f"/ping/{key}/srv01").status_code == 404


def test_a_ping_key_removed_straight_in_the_database_is_refused_within_five_seconds(
    client, settings: Settings, clock: FakeClock
):
    """`thereyet apply` without --url writes the database itself. On SQLite the running
    hub hears nothing, and a key it checked lately is taken until it forgets it, 5 s
    later; on PostgreSQL it hears the apply through the bus bridge, at once."""
    files = {"keys.toml": "[ping_keys.servers]\n"}
    done = client.post("/api/v1/config/apply", json={"files": files}).json()
    [key] = [s["key"] for s in done["secrets"] if s["kind"] == "ping_keys"]
    assert client.get(f"/ping/{key}/srv01?create=1").status_code == 201
    other = Hub.open(settings, clock)  # as the command line opens the database
    try:
        ConfigService(other).apply_sync({"keys.toml": "# no keys\n"}, Resolver(), prune=True)
    finally:
        other.close()
    if settings.db.startswith("postgresql"):
        assert client.get(f"/ping/{key}/srv01").status_code == 404
        return
    clock.advance(4.9)
    assert client.get(f"/ping/{key}/srv01").status_code == 200  # still remembered
    clock.advance(0.2)
    assert client.get(f"/ping/{key}/srv01").status_code == 404


def test_a_slug_remembered_for_a_check_since_gone_is_not_created_without_create(client):
    """Slug pings remember a check's ping uuid for a few seconds. Should the check be gone
    meanwhile (deleted from the configuration files before it was ever run), the ping
    finds no check by that uuid and is made by its slug: not found, unless ?create=1."""
    key = client.post("/api/v1/ping-keys", json={"name": "servers"}).json()["key"]
    pings = client.app.state.pings  # type: ignore[attr-defined]
    pings._slugs.put("srv02", str(uuid.uuid4()))  # as a ping just before the deletion left it
    assert client.get(f"/ping/{key}/srv02").status_code == 404
    assert client.get("/api/v1/jobs/srv02").status_code == 404
    assert client.get(f"/ping/{key}/srv02?create=1").status_code == 201
    [run] = runs(client, "srv02")
    assert run["status"] == "succeeded"


def test_too_many_pings_are_throttled_with_429(client, check, clock: FakeClock):
    pings = client.app.state.pings
    pings.per_job = SharedBuckets(pings.hub, Rate(per_minute=60, burst=2))
    assert [client.get(check).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(check).text == "rate limited"
    clock.advance(1)
    assert client.get(check).status_code == 200
    assert len(runs(client)) == 3


def test_auto_provisioning_is_throttled_per_ping_key(client):
    pings = client.app.state.pings
    pings.creations = SharedBuckets(pings.hub, Rate(per_minute=1, burst=1))
    key = client.post("/api/v1/ping-keys", json={"name": "fleet"}).json()["key"]
    assert client.get(f"/ping/{key}/host-1?create=1").status_code == 201
    assert client.get(f"/ping/{key}/host-2?create=1").status_code == 429
    assert client.get(f"/ping/{key}/host-1?create=1").status_code == 200


def test_a_ping_starts_the_occurrence_a_scheduled_job_waits_for(client, clock: FakeClock):
    view = client.put("/api/v1/jobs/nightly/schedule", json={"schedule": "0 10 * * *"}).json()
    assert view["due_at"] == "2026-03-02T10:00:00Z"
    clock.set(clock.now().replace(hour=10, minute=0, second=30))
    client.get(f"{view['ping_url']}/start")
    after = client.get("/api/v1/jobs/nightly/schedule").json()
    assert (after["due_at"], after["state"]) == ("2026-03-03T10:00:00Z", "ok")
