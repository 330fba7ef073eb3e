"""Rooms and messages through the JSON API."""

from __future__ import annotations


def test_create_and_list_rooms(client):
    created = client.post("/api/v1/rooms", json={"name": "migration", "topic": "the big move"})
    assert created.status_code == 201
    assert created.json()["title"] == "Migration"
    duplicate = client.post("/api/v1/rooms", json={"name": "migration"})
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "name"
    rooms = client.get("/api/v1/rooms").json()["rooms"]
    assert [(r["name"], r["topic"]) for r in rooms] == [("migration", "the big move")]


def test_posting_in_an_unknown_room_is_404_and_writes_nothing(client):
    response = client.post("/api/v1/rooms/nowhere/messages", json={"text": "hello"})
    assert response.status_code == 404
    assert "nowhere" in response.json()["error"]
    assert client.get("/api/v1/rooms").json()["rooms"] == []


def test_messages_keep_author_and_order_and_a_client_id_makes_posting_repeat_safe(client):
    client.post("/api/v1/rooms", json={"name": "ops"})
    first = client.post("/api/v1/rooms/ops/messages", json={"text": "deploying", "id": "m-1"})
    again = client.post("/api/v1/rooms/ops/messages", json={"text": "deploying", "id": "m-1"})
    client.post("/api/v1/rooms/ops/messages", json={"text": "done"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    messages = client.get("/api/v1/rooms/ops/messages").json()["messages"]
    assert [(m["text"], m["author"]) for m in messages] == [
        ("deploying", "admin"),
        ("done", "admin"),
    ]


def test_message_pages_walk_back_with_before_and_forward_with_after(client):
    client.post("/api/v1/rooms", json={"name": "ops"})
    for i in range(10):
        client.post("/api/v1/rooms/ops/messages", json={"text": f"m{i}"})
    newest = client.get("/api/v1/rooms/ops/messages", params={"limit": 4}).json()
    assert [m["text"] for m in newest["messages"]] == ["m6", "m7", "m8", "m9"]
    older = client.get(
        "/api/v1/rooms/ops/messages", params={"limit": 4, "before": newest["prev_cursor"]}
    ).json()
    assert [m["text"] for m in older["messages"]] == ["m2", "m3", "m4", "m5"]
    oldest = client.get(
        "/api/v1/rooms/ops/messages", params={"limit": 4, "before": older["prev_cursor"]}
    ).json()
    assert [m["text"] for m in oldest["messages"]] == ["m0", "m1"]
    assert oldest["prev_cursor"] is None
    client.post("/api/v1/rooms/ops/messages", json={"text": "m10"})
    newer = client.get("/api/v1/rooms/ops/messages", params={"after": newest["next_after"]}).json()
    assert [m["text"] for m in newer["messages"]] == ["m10"]


def test_a_rooms_timeline_interleaves_cards_and_messages_in_time_order(client, clock):
    client.post("/api/v1/rooms", json={"name": "ops"})
    client.post("/api/v1/rooms/ops/messages", json={"text": "starting the export now"})
    clock.advance(1)
    run = client.post("/api/v1/runs", json={"job": "export", "room": "ops"}).json()
    clock.advance(1)
    client.post("/api/v1/rooms/ops/messages", json={"text": "looks fine"})
    clock.advance(1)
    client.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "succeeded"})
    messages = client.get("/api/v1/rooms/ops/messages").json()["messages"]
    assert [m["kind"] for m in messages] == ["text", "run", "text", "run"]
    stamps = [m["created_at"] for m in messages]
    assert stamps == sorted(stamps)


def test_a_file_posted_in_a_room_is_a_message_with_its_attachment(client):
    client.post("/api/v1/rooms", json={"name": "ops"})
    response = client.post(
        "/api/v1/rooms/ops/attachments",
        params={"name": "grafana shot.png", "text": "disk graph"},
        content=b"\x89PNG fake",
        headers={"Content-Type": "image/png"},
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["kind"] == "attachment" and message["text"] == "disk graph"
    attachment = message["data"]["attachment"]
    assert attachment["name"] == "grafana shot.png"
    assert client.get(attachment["url"]).content == b"\x89PNG fake"
    listed = client.get("/api/v1/rooms/ops/messages").json()["messages"]
    assert listed[-1]["id"] == message["id"]


def test_a_room_file_is_refused_in_an_unknown_room_and_when_empty(client):
    missing = client.post("/api/v1/rooms/nowhere/attachments", params={"name": "a"}, content=b"x")
    assert missing.status_code == 404
    client.post("/api/v1/rooms", json={"name": "ops"})
    empty = client.post("/api/v1/rooms/ops/attachments", params={"name": "a"}, content=b"")
    assert empty.status_code == 422 and empty.json()["field"] == "body"


def test_a_room_file_upload_with_an_id_is_repeat_safe(client):
    client.post("/api/v1/rooms", json={"name": "ops"})
    params = {"name": "shot.png", "id": "say-1"}
    first = client.post("/api/v1/rooms/ops/attachments", params=params, content=b"png")
    again = client.post("/api/v1/rooms/ops/attachments", params=params, content=b"png")
    assert again.json()["id"] == first.json()["id"]
    assert len(client.get("/api/v1/rooms/ops/messages").json()["messages"]) == 1
