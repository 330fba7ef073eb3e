"""Routines the hub starts: at each due time it creates the run and calls the service
back with the run id and a token good for that run only."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import as_token
from tests.monitoring.conftest import HandHub, Recorder


def league(hub: HandHub, recorder: Recorder, **extra: object) -> dict:
    target = {"kind": "http", "url": f"http://{recorder.url}/play", "headers": {"X-Key": "k1"}}
    return hub.put_schedule(
        "league-matches", schedule="every 1m", target=target, room="league", **extra
    )


def test_when_due_the_hub_creates_the_run_and_the_service_reports_with_a_run_token(
    hub: HandHub, recorder: Recorder
):
    view = league(hub, recorder)
    assert view["due_at"] == "2026-03-02T09:01:00Z"
    assert view["target"] == {
        "kind": "http",
        "url": f"http://{recorder.url}/play",
        "headers": ["X-Key"],
    }
    hub.clock.set(datetime(2026, 3, 2, 9, 0, 56, tzinfo=UTC))
    hub.schedule()
    assert hub.client.get("/api/v1/runs").json()["runs"] == []
    # The run is prepared a moment ahead; the service is called at the due time.
    hub.clock.set(datetime(2026, 3, 2, 9, 0, 58, tzinfo=UTC))
    hub.schedule()
    hub.schedule()
    [run] = hub.client.get("/api/v1/runs").json()["runs"]
    assert (run["status"], run["trigger"], run["node"]) == ("queued", "schedule", "test-node")
    hub.dispatch()
    assert recorder.requests == []
    hub.clock.set(datetime(2026, 3, 2, 9, 1, 0, 300000, tzinfo=UTC))
    hub.dispatch()
    [call] = recorder.requests
    assert call["path"] == "/play" and call["headers"]["X-Key"] == "k1"
    body = call["json"]
    assert (body["run_id"], body["job"], body["due_at"]) == (
        run["id"],
        "league-matches",
        "2026-03-02T09:01:00Z",
    )
    assert body["events_url"] == f"/api/v1/runs/{run['id']}/events"

    # The service plays its matches and reports with the token it was given.
    token = as_token(hub.client, body["token"])
    events = [{"id": "m1", "type": "progress", "done": 32, "total": 64, "unit": "matches"}]
    assert (
        hub.client.post(body["events_url"], json={"events": events}, headers=token).status_code
        == 200
    )
    assert (
        hub.client.post(body["finish_url"], json={"status": "succeeded"}, headers=token).status_code
        == 200
    )
    done = hub.client.get(f"/api/v1/runs/{run['id']}").json()
    assert (done["status"], done["progress"]["done"]) == ("succeeded", 32.0)
    texts = hub.room("league")
    assert texts[0] == "**league-matches** started" and texts[-1].startswith(
        "**league-matches** finished"
    )

    # The token reaches no other run and creates none.
    other = hub.client.post("/api/v1/runs", json={"job": "other"}).json()
    assert hub.client.get(f"/api/v1/runs/{other['id']}", headers=token).status_code == 404
    assert (
        hub.client.post("/api/v1/runs", json={"job": "league-matches"}, headers=token).status_code
        == 403
    )
    assert hub.client.get("/api/v1/rooms/league/messages", headers=token).status_code == 404
    # The token itself is not kept once the callback was delivered.
    [delivery] = hub.client.get("/api/v1/deliveries", params={"kind": "callback"}).json()[
        "deliveries"
    ]
    assert delivery["status"] == "sent"


def test_occurrences_missed_while_the_hub_was_down_start_only_the_latest(
    hub: HandHub, recorder: Recorder
):
    league(hub, recorder)
    hub.clock.set(datetime(2026, 3, 2, 9, 5, 10, tzinfo=UTC))
    hub.schedule()
    [run] = hub.client.get("/api/v1/runs").json()["runs"]
    assert (
        hub.client.get("/api/v1/jobs/league-matches/schedule").json()["due_at"]
        == "2026-03-02T09:06:00Z"
    )
    assert run["status"] == "queued"


def test_a_failing_callback_is_retried_then_the_run_fails_and_the_room_is_told(
    hub: HandHub, recorder: Recorder
):
    league(hub, recorder)
    recorder.status = 503
    hub.clock.set(datetime(2026, 3, 2, 9, 1, tzinfo=UTC))
    hub.schedule()
    for _ in range(6):
        hub.dispatch()
        hub.clock.advance(300)
    assert [r["answered"] for r in recorder.requests] == [503] * 5
    run = hub.client.get(
        "/api/v1/runs", params={"job": "league-matches", "status": "failed"}
    ).json()["runs"][0]
    assert "callback failed 5 times" in run["error"]
    attempts = [
        e
        for e in hub.client.get(f"/api/v1/runs/{run['id']}/events").json()["events"]
        if e["type"] == "callback"
    ]
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4, 5]
    assert "503" in attempts[0]["error"]
    assert any(t.startswith("**league-matches** failed") for t in hub.room("league"))


def test_a_started_run_that_never_reports_is_late_then_missed(hub: HandHub, recorder: Recorder):
    league(hub, recorder, limits={"grace": "20s"})
    hub.clock.set(datetime(2026, 3, 2, 9, 1, tzinfo=UTC))
    hub.schedule()
    hub.dispatch()
    hub.clock.set(datetime(2026, 3, 2, 9, 1, 20, tzinfo=UTC))
    hub.monitor()
    assert (
        hub.room("league")[-1]
        == "**league-matches** is late: it was due at 09:01 UTC and has not started"
    )
    hub.clock.set(datetime(2026, 3, 2, 9, 2, 0, tzinfo=UTC))
    hub.monitor()
    texts = hub.room("league")
    assert "**league-matches** missed its run due at 09:01 UTC" in texts
    first = hub.client.get("/api/v1/runs", params={"status": "cancelled"}).json()["runs"]
    assert len(first) == 1 and first[0]["error"].startswith("missed")
