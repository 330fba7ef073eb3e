"""Tokens and scopes: every write needs a token, reads need read or better."""

from __future__ import annotations

import pytest

from tests.conftest import as_token


def make_token(client, scope: str, **limits: list[str]) -> str:
    response = client.post(
        "/api/v1/tokens", json={"name": f"{scope} test", "scope": scope, **limits}
    )
    assert response.status_code == 201, response.text
    return response.json()["token"]


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/v1/runs"),
        ("post", "/api/v1/runs"),
        ("get", "/api/v1/rooms"),
        ("post", "/api/v1/rooms"),
        ("get", "/api/v1/jobs"),
        ("get", "/api/v1/tokens"),
    ],
)
def test_every_endpoint_but_health_needs_a_token(client, method, path):
    response = getattr(client, method)(path, headers=as_token(client, None))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_unknown_token_is_refused(client):
    response = client.get("/api/v1/runs", headers=as_token(client, "ty_nope_notasecret"))
    assert response.status_code == 401


def test_a_read_token_reads_but_cannot_write(client):
    token = make_token(client, "read")
    client.post("/api/v1/runs", json={"job": "export"})
    assert len(client.get("/api/v1/runs", headers=as_token(client, token)).json()["runs"]) == 1
    refused = client.post("/api/v1/runs", json={"job": "export"}, headers=as_token(client, token))
    assert refused.status_code == 403
    assert client.get("/api/v1/tokens", headers=as_token(client, token)).status_code == 403


def test_an_ingest_token_limited_to_a_room_reports_only_there(client):
    token = make_token(client, "ingest", rooms=["migration"])
    mine = client.post(
        "/api/v1/runs", json={"job": "export", "room": "migration"}, headers=as_token(client, token)
    )
    assert mine.status_code == 201
    other = client.post(
        "/api/v1/runs", json={"job": "export", "room": "billing"}, headers=as_token(client, token)
    )
    assert other.status_code == 403
    foreign = client.post("/api/v1/runs", json={"job": "backup"}).json()
    hidden = client.post(
        f"/api/v1/runs/{foreign['id']}/events",
        json={"events": [{"id": "a", "type": "heartbeat"}]},
        headers=as_token(client, token),
    )
    assert hidden.status_code == 404
    visible = client.get("/api/v1/runs", headers=as_token(client, token)).json()["runs"]
    assert [r["id"] for r in visible] == [mine.json()["id"]]
    said = client.post(
        "/api/v1/rooms/migration/messages", json={"text": "hi"}, headers=as_token(client, token)
    )
    assert said.status_code == 201
    assert said.json()["author"] == "ingest test"


def test_an_ingest_token_limited_to_a_job_may_report_it_anywhere(client):
    token = make_token(client, "ingest", jobs=["export"])
    ok = client.post(
        "/api/v1/runs", json={"job": "export", "room": "x"}, headers=as_token(client, token)
    )
    refused = client.post("/api/v1/runs", json={"job": "backup"}, headers=as_token(client, token))
    assert (ok.status_code, refused.status_code) == (201, 403)


def test_only_ingest_tokens_take_limits(client):
    response = client.post("/api/v1/tokens", json={"name": "r", "scope": "read", "rooms": ["a"]})
    assert response.status_code == 422 and response.json()["field"] == "scope"


def test_tokens_are_listed_without_secrets_and_a_revoked_one_stops_working(client):
    token = make_token(client, "read")
    listed = client.get("/api/v1/tokens").json()["tokens"]
    assert all("token" not in t and "secret_hash" not in t for t in listed)
    token_id = next(t["id"] for t in listed if t["name"] == "read test")
    assert client.get("/api/v1/runs", headers=as_token(client, token)).status_code == 200
    assert client.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    assert client.get("/api/v1/runs", headers=as_token(client, token)).status_code == 401
    assert client.delete(f"/api/v1/tokens/{token_id}").status_code == 404


def test_the_database_keeps_only_hashes_of_tokens(client, settings):
    token = make_token(client, "read")
    from sqlalchemy import create_engine, select

    from thereyet.server.store.tables import tokens

    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        stored = [tuple(row) for row in conn.execute(select(tokens))]
    engine.dispose()
    assert stored
    # ty_<id>_<secret>, and the secret itself may hold "_": split at the first two only
    # (the last "_"-part alone can be two characters, found in a hash by chance).
    secret = token.split("_", 2)[2]
    assert len(secret) >= 20
    assert not any(token in str(value) or secret in str(value) for row in stored for value in row)
