"""Bad input gets a 4xx naming the field and the reason; never a 500, never half a record."""

from __future__ import annotations

import pytest


def run_id(client) -> str:
    return client.post("/api/v1/runs", json={"job": "export", "room": "ops"}).json()["id"]


def test_an_invalid_event_names_its_field_and_nothing_of_the_batch_is_kept(client):
    rid = run_id(client)
    response = client.post(
        f"/api/v1/runs/{rid}/events",
        json={
            "events": [
                {"id": "ok", "type": "log", "text": "fine"},
                {"id": "bad", "type": "progress", "done": -5},
            ]
        },
    )
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "events.1.done"
    assert "greater than or equal to 0" in body["fields"][0]["reason"]
    events = client.get(f"/api/v1/runs/{rid}/events").json()["events"]
    assert [e["type"] for e in events] == ["status"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"job": "Has Spaces"}, "job"),
        ({"job": "x", "room": "-bad"}, "room"),
        ({"job": "x", "pid": -1}, "pid"),
        ({"job": "x", "total": "lots"}, "total"),
        ({"job": "x", "id": "short"}, "id"),
        ({"job": "x", "surprise": 1}, "surprise"),
        ({}, "job"),
    ],
)
def test_invalid_run_fields_are_422_with_the_field(client, body, field):
    response = client.post("/api/v1/runs", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_a_body_that_is_not_json_is_422(client):
    response = client.post(
        "/api/v1/runs", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["error"]


@pytest.mark.parametrize(
    "event,field",
    [
        ({"id": "a", "type": "teleport"}, "events.0"),
        ({"id": "", "type": "log", "text": "x"}, "events.0.id"),
        ({"id": "a", "type": "progress", "done": "NaN"}, "events.0.done"),
        ({"id": "a", "type": "stat", "name": "x", "value": [1]}, "events.0.value"),
        ({"id": "a", "type": "log"}, "events.0.text"),
        ({"id": "a", "type": "log", "text": "x", "ts": "yesterday"}, "events.0.ts"),
    ],
)
def test_invalid_events_name_the_field(client, event, field):
    rid = run_id(client)
    response = client.post(f"/api/v1/runs/{rid}/events", json={"events": [event]})
    assert response.status_code == 422, response.text
    assert response.json()["field"].startswith(field)


def test_an_empty_batch_and_a_batch_over_the_limit_are_refused(client):
    rid = run_id(client)
    empty = client.post(f"/api/v1/runs/{rid}/events", json={"events": []})
    assert empty.status_code == 422 and empty.json()["field"] == "events"
    many = [{"id": f"e{i}", "type": "heartbeat"} for i in range(5001)]
    too_many = client.post(f"/api/v1/runs/{rid}/events", json={"events": many})
    assert too_many.status_code == 422 and too_many.json()["field"] == "events"


def test_events_for_an_unknown_run_are_404(client):
    response = client.post(
        "/api/v1/runs/nope1234/events", json={"events": [{"id": "a", "type": "heartbeat"}]}
    )
    assert response.status_code == 404
    assert client.get("/api/v1/runs/nope1234").status_code == 404


def test_finish_with_a_bad_status_is_422_and_leaves_the_run_running(client):
    rid = run_id(client)
    response = client.post(f"/api/v1/runs/{rid}/finish", json={"status": "exploded"})
    assert response.status_code == 422 and response.json()["field"] == "status"
    assert client.get(f"/api/v1/runs/{rid}").json()["status"] == "running"


def test_a_body_over_the_size_limit_is_413(client, settings):
    rid = run_id(client)
    big = b"x" * (settings.max_body_bytes + 1)
    response = client.post(
        f"/api/v1/runs/{rid}/events", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["field"] == "body"


def test_an_attachment_over_its_limit_is_413_and_not_stored(client, settings):
    rid = run_id(client)
    big = b"x" * (settings.max_attachment_bytes + 1)
    response = client.post(
        f"/api/v1/runs/{rid}/attachments", params={"name": "big.bin"}, content=big
    )
    assert response.status_code == 413
    assert client.get(f"/api/v1/runs/{rid}").json()["attachments"] == []


def test_an_empty_attachment_or_one_without_a_name_is_422(client):
    rid = run_id(client)
    empty = client.post(f"/api/v1/runs/{rid}/attachments", params={"name": "a.txt"}, content=b"")
    assert empty.status_code == 422 and empty.json()["field"] == "body"
    nameless = client.post(f"/api/v1/runs/{rid}/attachments", content=b"abc")
    assert nameless.status_code == 422 and nameless.json()["field"] == "name"


def test_a_bad_cursor_or_filter_is_422(client):
    assert client.get("/api/v1/runs", params={"cursor": "%%%"}).json()["field"] == "cursor"
    response = client.get("/api/v1/runs", params={"status": "sleeping"})
    assert response.status_code == 422 and response.json()["field"] == "status.0"
    assert client.get("/api/v1/runs", params={"limit": 0}).status_code == 422


GARBAGE = [None, 0, -1, 1e308, "", "x" * 300, [], {}, [1, 2], {"a": {"b": []}}, True, "\u0000"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/runs",
        "/api/v1/runs/{rid}/events",
        "/api/v1/runs/{rid}/finish",
        "/api/v1/rooms",
        "/api/v1/rooms/ops/messages",
        "/api/v1/tokens",
    ],
)
def test_garbage_never_gets_a_500(client, path):
    rid = run_id(client)
    url = path.format(rid=rid)
    fields = [
        "job",
        "id",
        "events",
        "status",
        "name",
        "text",
        "scope",
        "total",
        "room",
        "exit_code",
    ]
    for value in GARBAGE:
        for body in (
            value,
            {f: value for f in fields},
            {"events": [value]},
            {"events": [{"id": "a", "type": "progress", "done": value}]},
        ):
            response = client.post(url, json=body)
            assert response.status_code < 500, (url, body, response.text)
            if response.status_code >= 400:
                assert "error" in response.json()
