"""Pings answered before the framework (web/ping_path.py).

Every ping gets the answer the app's own route gives it, byte for byte: the
plain ones are answered on the short path, the rest (other URL forms, refusals,
errors) are handed on to the app with their body.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from thereyet.server.clock import FakeClock
from thereyet.server.domain.ratelimit import Rate
from thereyet.server.services.rate_buckets import SharedBuckets


@pytest.fixture
def check(client: TestClient) -> str:
    response = client.put("/api/v1/jobs/backup/schedule", json={"room": "ops"})
    url: str = response.json()["ping_url"]
    return url


@pytest.fixture
def framework_only(client: TestClient) -> TestClient:
    """A client of the same running app that goes straight to FastAPI, past the short path."""
    app = client.app
    assert isinstance(app, FastAPI)

    async def routed(scope: Any, receive: Any, send: Any) -> None:
        await FastAPI.__call__(app, scope, receive, send)

    return TestClient(routed, raise_server_exceptions=False)


def answer(response: Any) -> tuple[int, bytes, list[tuple[str, str]]]:
    return response.status_code, response.content, sorted(response.headers.items())


def counts(client: TestClient) -> tuple[int, int]:
    found = client.app.state.ping_counts  # type: ignore[attr-defined]
    return found.answered, found.handed_on


def both(client: TestClient, framework_only: TestClient, method: str, url: str, **kw: Any):
    """The same request through the app's route, then through the hub as served."""
    routed = framework_only.request(method, url, **kw)
    served = client.request(method, url, headers={"Authorization": ""}, **kw)
    return routed, served


PLAIN = [
    ("GET", ""),
    ("HEAD", ""),
    ("POST", ""),
    ("GET", "/start"),
    ("GET", "/fail"),
    ("GET", "/log"),
    ("GET", "/0"),
    ("POST", "/3"),
    ("GET", "?rid=" + str(uuid.UUID(int=7))),
]


@pytest.mark.parametrize(("method", "suffix"), PLAIN)
def test_a_plain_ping_is_answered_on_the_short_path_as_the_app_answers(
    client, framework_only, check, method, suffix
):
    before = counts(client)
    routed, served = both(client, framework_only, method, check + suffix, content=b"line\n")
    assert answer(served) == answer(routed)
    assert served.status_code == 200
    assert counts(client) == (before[0] + 1, before[1])


HANDED_ON = [
    ("GET", "/256", 400),  # an exit status out of range
    ("GET", "/restart", 404),  # not an action
    ("GET", "?rid=not-a-uuid", 400),
    ("GET", "?rid=" + str(uuid.UUID(int=0xABCDEF)).upper(), 200),  # the route takes upper case
]


@pytest.mark.parametrize(("method", "suffix", "status"), HANDED_ON)
def test_a_ping_off_the_plain_form_is_handed_to_the_app_and_answered_the_same(
    client, framework_only, check, method, suffix, status
):
    before = counts(client)
    routed, served = both(client, framework_only, method, check + suffix)
    assert answer(served) == answer(routed)
    assert served.status_code == status
    assert counts(client) == (before[0], before[1] + 1)


def test_an_unknown_check_is_not_found_the_same_way(client, framework_only):
    routed, served = both(client, framework_only, "GET", f"/ping/{uuid.uuid4()}")
    assert answer(served) == answer(routed)
    assert (served.status_code, served.text) == (404, "not found")


def test_other_url_forms_go_to_the_app(client, framework_only, check):
    """Upper case, a trailing slash, extra query parameters: the route's own parsing."""
    key = client.post("/api/v1/ping-keys", json={"name": "k"}).json()["key"]
    upper = check.upper().replace("/PING/", "/ping/")
    for url in (
        upper,
        upper + "/start",  # an upper-case uuid and an action: not a key and a slug
        check + "/",
        check + "?x=1",
        f"/ping/{key}/backup?create=1",
        f"/ping/{key}/backup/",
    ):
        before = counts(client)
        routed, served = both(client, framework_only, "GET", url)
        assert answer(served) == answer(routed), url
        assert served.status_code == 200, url
        assert counts(client)[0] == before[0], url


@pytest.mark.parametrize(("method", "suffix"), PLAIN)
def test_a_plain_slug_ping_is_answered_on_the_short_path_as_the_app_answers(
    client, framework_only, check, method, suffix
):
    key = client.post("/api/v1/ping-keys", json={"name": "k"}).json()["key"]
    before = counts(client)
    url = f"/ping/{key}/backup{suffix}"
    routed, served = both(client, framework_only, method, url, content=b"line\n")
    assert answer(served) == answer(routed)
    assert served.status_code == 200
    assert counts(client) == (before[0] + 1, before[1])


def test_slug_pings_refused_on_the_short_path_get_the_apps_answers(client, framework_only, check):
    """A wrong key, a slug that is no check's (without ?create=1), a revoked key."""
    key = client.post("/api/v1/ping-keys", json={"name": "k"}).json()["key"]
    assert client.get(f"/ping/{key}/backup").status_code == 200  # the key is remembered
    key_id = client.get("/api/v1/ping-keys").json()["ping_keys"][0]["id"]
    for url in ("/ping/wrong-key/backup", f"/ping/{key}/nothing-here"):
        routed, served = both(client, framework_only, "GET", url)
        assert answer(served) == answer(routed), url
        assert (served.status_code, served.text) == (404, "not found"), url
    assert client.delete(f"/api/v1/ping-keys/{key_id}").status_code == 204
    routed, served = both(client, framework_only, "GET", f"/ping/{key}/backup")
    assert answer(served) == answer(routed)
    assert served.status_code == 404


def test_a_run_id_of_another_check_is_a_conflict_either_way(client, framework_only, check):
    other = client.put("/api/v1/jobs/other/schedule", json={}).json()["ping_url"]
    rid = str(uuid.uuid4())
    assert client.get(f"{other}/start?rid={rid}").status_code == 200
    routed, served = both(client, framework_only, "GET", f"{check}?rid={rid}")
    assert answer(served) == answer(routed)
    assert served.status_code == 409


def test_throttled_pings_get_the_apps_429(client, framework_only, check, clock: FakeClock):
    hub = client.app.state.hub  # type: ignore[attr-defined]
    client.app.state.pings.per_job = SharedBuckets(hub, Rate(per_minute=60, burst=2))  # type: ignore[attr-defined]
    assert client.get(check).status_code == 200
    assert client.get(check).status_code == 200
    routed, served = both(client, framework_only, "GET", check)
    assert answer(served) == answer(routed)
    assert (served.status_code, served.text) == (429, "rate limited")


def test_a_body_over_the_limit_is_refused_by_the_app(client, check):
    limit = client.app.state.hub.settings.max_body_bytes  # type: ignore[attr-defined]
    served = client.post(check, content=b"x" * (limit + 1), headers={"Authorization": ""})
    assert served.status_code == 413


def test_the_short_path_records_what_the_app_records(client, check, clock: FakeClock):
    assert client.post(f"{check}/start", content=b"begin").status_code == 200
    clock.advance(5)
    assert client.post(f"{check}/1", content=b"boom").status_code == 200
    [run] = client.get("/api/v1/runs", params={"job": "backup"}).json()["runs"]
    assert (run["status"], run["exit_code"], run["elapsed"]) == ("failed", 1, 5.0)
    events = client.get(f"/api/v1/runs/{run['id']}/events").json()["events"]
    assert [e["text"] for e in events if e["type"] == "log"] == ["begin", "boom"]
