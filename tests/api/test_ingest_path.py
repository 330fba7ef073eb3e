"""The report-events route answered before the framework (web/ingest.py).

It must answer the plain case itself and hand everything else to the app, which
answers exactly as it does for any request: same codes, same errors, nothing
written by a refused report.
"""

from __future__ import annotations

import pytest

from tests.api.test_auth import make_token
from tests.conftest import as_token


def counts(client):
    return client.app.state.ingest_counts


def new_run(client, **extra) -> str:
    response = client.post("/api/v1/runs", json={"job": "export", "total": 100, **extra})
    assert response.status_code == 201
    return str(response.json()["id"])


def events_of(client, rid: str) -> list[str]:
    return [e["id"] for e in client.get(f"/api/v1/runs/{rid}/events").json()["events"]]


def test_a_plain_report_is_answered_on_the_short_path(client):
    rid = new_run(client)  # the admin token has now been checked once
    before = counts(client).answered
    response = client.post(
        f"/api/v1/runs/{rid}/events",
        json={"events": [{"id": "p1", "type": "progress", "done": 40}]},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"accepted": 1, "duplicates": 0, "status": "running"}
    assert counts(client).answered == before + 1
    assert client.get(f"/api/v1/runs/{rid}").json()["progress"]["percent"] == 40.0


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        (b'{"events": [{"id": "p", "type": "progress", "done": "lots"}]}', "application/json", 422, "events.0.done"),
        (b'{"events": [{"id": "p", "type": "progress", "done": 1}]}', "text/plain", 422, "body"),
        (b'{"events": [', "application/json", 422, "body"),
        (b'{"events": []}', "application/json", 422, "events"),
    ],
)  # fmt: skip
def test_bad_input_on_a_warm_token_gets_the_apps_answer(client, body, content_type, status, field):
    rid = new_run(client)
    handed_on = counts(client).handed_on
    response = client.post(
        f"/api/v1/runs/{rid}/events", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    assert response.json()["field"].startswith(field)
    assert counts(client).handed_on == handed_on + 1
    assert [e for e in events_of(client, rid) if not e.startswith("status-")] == []


def test_refusals_on_a_warm_token_are_the_apps(client, settings):
    rid = new_run(client, room="ops")
    batch = {"events": [{"id": "p1", "type": "progress", "done": 1}]}
    assert client.post("/api/v1/runs/nope/events", json=batch).status_code == 404

    big = b"x" * (settings.max_body_bytes + 1)
    response = client.post(
        f"/api/v1/runs/{rid}/events", content=big, headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["field"]) == (413, "body")

    reader = make_token(client, "read")
    assert client.get("/api/v1/runs", headers=as_token(client, reader)).status_code == 200
    response = client.post(
        f"/api/v1/runs/{rid}/events", json=batch, headers=as_token(client, reader)
    )
    assert response.status_code == 403

    elsewhere = make_token(client, "ingest", rooms=["elsewhere"])
    client.get("/api/v1/runs", headers=as_token(client, elsewhere))
    response = client.post(
        f"/api/v1/runs/{rid}/events", json=batch, headers=as_token(client, elsewhere)
    )
    assert response.status_code == 404  # it may not even see the run

    finished = client.post(f"/api/v1/runs/{rid}/finish", json={"status": "succeeded"})
    assert finished.status_code == 200
    late = client.post(f"/api/v1/runs/{rid}/events", json=batch)
    assert late.status_code == 200 and late.json()["status"] == "succeeded"
    assert "p1" in events_of(client, rid)  # a finished run still takes late figures


def test_a_revoked_token_is_refused_even_if_seen_a_moment_ago(client):
    token = make_token(client, "ingest")
    rid = new_run(client)
    batch = {"events": [{"id": "p1", "type": "progress", "done": 1}]}
    ok = client.post(f"/api/v1/runs/{rid}/events", json=batch, headers=as_token(client, token))
    assert ok.status_code == 200
    token_id = next(
        t["id"] for t in client.get("/api/v1/tokens").json()["tokens"] if t["scope"] == "ingest"
    )
    assert client.delete(f"/api/v1/tokens/{token_id}").status_code in (200, 204)
    again = {"events": [{"id": "p2", "type": "progress", "done": 2}]}
    refused = client.post(f"/api/v1/runs/{rid}/events", json=again, headers=as_token(client, token))
    assert refused.status_code == 401
    assert "p2" not in events_of(client, rid)
