"""A room mirrored to a channel through the outbox; `!run` starts a job as its schedule would."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.testclient import TestClient

from tests.chatops.conftest import Recorder, make_room, say, texts, wait_for_record
from tests.servers import wait_for
from thereyet.server.workers.bridge import Bridge


def test_a_bridged_room_is_mirrored_to_its_channel(client: TestClient, recorder: Recorder):
    make_room(client, "ops")
    say(client, "ops", "before the bridge")
    channel = {"name": "team-chat", "url": f"json://127.0.0.1:{recorder.port}/mirror"}
    assert client.post("/api/v1/channels", json=channel).status_code == 201
    made = client.post("/api/v1/bridges", json={"room": "ops", "channel": "team-chat"})
    assert made.status_code == 201, made.text
    again = client.post("/api/v1/bridges", json={"room": "ops", "channel": "team-chat"})
    assert again.status_code == 409
    say(client, "ops", "deploy is done")
    [sent] = wait_for(lambda: recorder.requests)
    assert sent["path"] == "/mirror"
    assert sent["json"]["message"] == "admin: deploy is done"
    assert sent["json"]["title"] == "#ops"
    # The outbox records it; only messages after the bridge was made are mirrored.
    sent_rows = wait_for(
        lambda: [
            d
            for d in client.get("/api/v1/deliveries", params={"channel": "team-chat"}).json()[
                "deliveries"
            ]
            if d["status"] == "sent"
        ]
    )
    assert [(d["event"], d["job"]) for d in sent_rows] == [("message", "ops")]


def test_a_bridge_needs_a_known_room_and_channel(client: TestClient):
    missing = client.post("/api/v1/bridges", json={"room": "nope", "channel": "x"})
    assert missing.status_code == 404 and missing.json()["field"] == "room"
    bad = client.post("/api/v1/bridges", json={"room": "Not A Name", "channel": "x"})
    assert bad.status_code == 422 and bad.json()["field"] == "room"


def test_run_starts_a_job_through_its_target_like_the_scheduler(
    client: TestClient, recorder: Recorder
):
    target = {"kind": "http", "url": f"http://{recorder.url}/start", "headers": {}}
    put = client.put(
        "/api/v1/jobs/nightly-backup/schedule",
        json={"schedule": "every 1d", "target": target, "room": "ops"},
    )
    assert put.status_code == 200, put.text
    say(client, "ops", "!run nightly-backup")
    [record] = client.get("/api/v1/commands/runs").json()["runs"]
    record = wait_for_record(client, record["id"])
    assert record["status"] == "succeeded", record
    [run] = client.get("/api/v1/runs", params={"job": "nightly-backup"}).json()["runs"]
    assert f"started nightly-backup: run `{run['id']}`" in record["output"]
    [call] = wait_for(lambda: recorder.requests)
    assert call["path"] == "/start" and call["json"]["run_id"] == run["id"]
    say(client, "ops", "!run no-such-job")
    assert (
        "no job named 'no-such-job'"
        in wait_for(lambda: [t for t in texts(client, "ops") if "no-such-job" in t and "✗" in t])[0]
    )


def test_a_deleted_bridge_mirrors_nothing_more(client: TestClient, recorder: Recorder):
    make_room(client, "ops")
    channel = {"name": "team-chat", "url": f"json://127.0.0.1:{recorder.port}/mirror"}
    assert client.post("/api/v1/channels", json=channel).status_code == 201
    bridge = client.post("/api/v1/bridges", json={"room": "ops", "channel": "team-chat"}).json()
    say(client, "ops", "while bridged")
    wait_for(lambda: recorder.requests)
    assert client.delete(f"/api/v1/bridges/{bridge['id']}").status_code == 204
    assert client.get("/api/v1/bridges").json()["bridges"] == []
    say(client, "ops", "after the bridge")
    assert client.portal is not None
    mirror = Bridge(client.app.state.bridges).tick  # type: ignore[attr-defined]
    assert client.portal.call(mirror, datetime.now(UTC)) is False
    rows = client.get("/api/v1/deliveries", params={"channel": "team-chat"}).json()["deliveries"]
    assert len(rows) == 1
    assert client.delete(f"/api/v1/bridges/{bridge['id']}").status_code == 404
