"""Routines the hub starts: at each due time it creates the run and calls the service
back with the run id and a token good for that run only."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime

from tests.conftest import as_token
from tests.monitoring.conftest import HandHub, Recorder


def league(hand_hub: HandHub, recorder: Recorder, **extra: object) -> dict:
    target = {"kind": "http", "url": f"http://{recorder.url}/play", "headers": {"X-Key": "k1"}}
    return hand_hub.put_schedule(
        "league-matches", schedule="every 1m", target=target, room="league", **extra
    )


def test_when_due_the_hub_creates_the_run_and_the_service_reports_with_a_run_token(
    hand_hub: HandHub, recorder: Recorder
):
    view = league(hand_hub, recorder)
    assert view["due_at"] == "2026-03-02T09:01:00Z"
    assert view["target"] == {
        "kind": "http",
        "url": f"http://{recorder.url}/play",
        "headers": ["X-Key"],
    }
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 0, 56, tzinfo=UTC))
    hand_hub.schedule()
    assert hand_hub.client.get("/api/v1/runs").json()["runs"] == []
    # The run is prepared a moment ahead; the service is called at the due time.
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 0, 58, tzinfo=UTC))
    hand_hub.schedule()
    hand_hub.schedule()
    [run] = hand_hub.client.get("/api/v1/runs").json()["runs"]
    assert (run["status"], run["trigger"], run["node"]) == ("queued", "schedule", "test-node")
    hand_hub.dispatch()
    assert recorder.requests == []
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 1, 0, 300000, tzinfo=UTC))
    hand_hub.dispatch()
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
    token = as_token(hand_hub.client, body["token"])
    events = [{"id": "m1", "type": "progress", "done": 32, "total": 64, "unit": "matches"}]
    assert (
        hand_hub.client.post(body["events_url"], json={"events": events}, headers=token).status_code
        == 200
    )
    # While the run runs, the token reaches no other run and creates none.
    other = hand_hub.client.post("/api/v1/runs", json={"job": "other"}).json()
    assert hand_hub.client.get(f"/api/v1/runs/{other['id']}", headers=token).status_code == 404
    assert (
        hand_hub.client.post(
            "/api/v1/runs", json={"job": "league-matches"}, headers=token
        ).status_code
        == 403
    )
    assert (
        hand_hub.client.get("/api/v1/rooms/league/messages", headers=token).status_code == 403
    )  # no room reading for it
    assert (
        hand_hub.client.post(
            body["finish_url"], json={"status": "succeeded"}, headers=token
        ).status_code
        == 200
    )
    done = hand_hub.client.get(f"/api/v1/runs/{run['id']}").json()
    assert (done["status"], done["progress"]["done"]) == ("succeeded", 32.0)
    texts = hand_hub.room("league")
    assert texts[0] == "**league-matches** started" and texts[-1].startswith(
        "**league-matches** finished"
    )

    # The token itself is not kept once the callback was delivered: only its hash is.
    [delivery] = hand_hub.client.get("/api/v1/deliveries", params={"kind": "callback"}).json()[
        "deliveries"
    ]
    assert delivery["status"] == "sent"
    assert stored_values_holding(hand_hub.app.state.hub.settings.database_url, body["token"]) == []


def stored_values_holding(sqlite_url: str, secret: str) -> list[tuple[str, str]]:
    """Every (table, column) of the SQLite database at `sqlite_url` with a value holding `secret`."""
    found = []
    with contextlib.closing(sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (names from the schema)
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                found += [(table, c) for c, v in zip(columns, row, strict=True) if secret in str(v)]
    return found


def test_occurrences_missed_while_the_hub_was_down_start_only_the_latest(
    hand_hub: HandHub, recorder: Recorder
):
    league(hand_hub, recorder)
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 5, 10, tzinfo=UTC))
    hand_hub.schedule()
    [run] = hand_hub.client.get("/api/v1/runs").json()["runs"]
    assert (
        hand_hub.client.get("/api/v1/jobs/league-matches/schedule").json()["due_at"]
        == "2026-03-02T09:06:00Z"
    )
    assert run["status"] == "queued"


def test_a_failing_callback_is_retried_then_the_run_fails_and_the_room_is_told(
    hand_hub: HandHub, recorder: Recorder
):
    league(hand_hub, recorder)
    recorder.status = 503
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 1, tzinfo=UTC))
    hand_hub.schedule()
    for _ in range(6):
        hand_hub.dispatch()
        hand_hub.clock.advance(300)
    assert [r["answered"] for r in recorder.requests] == [503] * 5
    run = hand_hub.client.get(
        "/api/v1/runs", params={"job": "league-matches", "status": "failed"}
    ).json()["runs"][0]
    assert "callback failed 5 times" in run["error"]
    attempts = [
        e
        for e in hand_hub.client.get(f"/api/v1/runs/{run['id']}/events").json()["events"]
        if e["type"] == "callback"
    ]
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4, 5]
    assert "503" in attempts[0]["error"]
    assert any(t.startswith("**league-matches** failed") for t in hand_hub.room("league"))


def test_a_failing_callback_is_tried_again_after_10_20_40_then_80_seconds(
    hand_hub: HandHub, recorder: Recorder
):
    league(hand_hub, recorder)
    recorder.status = 503
    start = datetime(2026, 3, 2, 9, 1, tzinfo=UTC)
    hand_hub.clock.set(start)
    hand_hub.schedule()
    hand_hub.dispatch()
    tried_at = [0.0]
    for wait in (10, 20, 40, 80):
        hand_hub.clock.advance(wait - 0.5)
        hand_hub.dispatch()
        assert len(recorder.requests) == len(tried_at), f"tried again before {wait} s"
        hand_hub.clock.advance(0.5)
        hand_hub.dispatch()
        tried_at.append((hand_hub.clock.now() - start).total_seconds())
        assert len(recorder.requests) == len(tried_at), f"not tried again after {wait} s"
    assert tried_at == [0, 10, 30, 70, 150]


def test_a_started_run_that_never_reports_is_late_then_missed(
    hand_hub: HandHub, recorder: Recorder
):
    league(hand_hub, recorder, limits={"grace": "20s"})
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 1, tzinfo=UTC))
    hand_hub.schedule()
    hand_hub.dispatch()
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 1, 20, tzinfo=UTC))
    hand_hub.monitor()
    assert (
        hand_hub.room("league")[-1]
        == "**league-matches** is late: it was due at 09:01 UTC and has not started"
    )
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 2, 0, tzinfo=UTC))
    hand_hub.monitor()
    texts = hand_hub.room("league")
    assert "**league-matches** missed its run due at 09:01 UTC" in texts
    first = hand_hub.client.get("/api/v1/runs", params={"status": "cancelled"}).json()["runs"]
    assert len(first) == 1 and first[0]["error"].startswith("missed")


# -- the run's token ends with the run -----------------------------------------------------


def called_back(hand_hub: HandHub, recorder: Recorder, **extra: object) -> dict:
    """Make the league routine due, start it, deliver its callback; return what was sent."""
    league(hand_hub, recorder, **extra)
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 1, tzinfo=UTC))
    hand_hub.schedule()
    hand_hub.dispatch()
    [call] = recorder.requests
    return dict(call["json"])


def revoked_at(hand_hub: HandHub, run_id: str) -> str | None:
    [token] = [
        t
        for t in hand_hub.client.get("/api/v1/tokens").json()["tokens"]
        if t["name"] == f"run:{run_id}"
    ]
    return token["revoked_at"]


def test_a_run_token_works_while_its_run_runs_and_ends_a_grace_after_the_run(
    any_hand_hub: HandHub, recorder: Recorder
):
    body = called_back(any_hand_hub, recorder)
    token = as_token(any_hand_hub.client, body["token"])
    progress = {"events": [{"id": "m1", "type": "progress", "done": 1, "total": 64}]}
    assert (
        any_hand_hub.client.post(body["events_url"], json=progress, headers=token).status_code
        == 200
    )
    run_url = f"/api/v1/runs/{body['run_id']}"
    assert any_hand_hub.client.get(run_url, headers=token).json()["status"] == "running"
    assert revoked_at(any_hand_hub, body["run_id"]) is None

    finish = {"status": "failed", "id": "finish-1"}
    finished = any_hand_hub.client.post(body["finish_url"], json=finish, headers=token)
    assert finished.status_code == 200, finished.text
    assert revoked_at(any_hand_hub, body["run_id"]) == "2026-03-02T09:11:00Z"  # the end + 10 min
    # Within the grace the service may repeat a finish whose answer it lost, and send
    # what it still had: a finished run takes late figures.
    again = any_hand_hub.client.post(body["finish_url"], json=finish, headers=token)
    assert again.status_code == 200 and again.json()["status"] == "failed"
    late = {"events": [{"id": "m2", "type": "progress", "done": 2}]}
    assert any_hand_hub.client.post(body["events_url"], json=late, headers=token).status_code == 200

    any_hand_hub.clock.advance(minutes=10)  # though this node checked the token a moment ago
    later = {"events": [{"id": "m3", "type": "progress", "done": 3}]}
    assert (
        any_hand_hub.client.post(body["events_url"], json=later, headers=token).status_code == 401
    )
    assert any_hand_hub.client.get(run_url, headers=token).status_code == 401
    assert any_hand_hub.client.get(run_url).json()["progress"]["done"] == 2.0


def test_a_run_the_hub_cancels_takes_its_token_with_it(hand_hub: HandHub, recorder: Recorder):
    body = called_back(hand_hub, recorder, limits={"grace": "20s"})
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 2, tzinfo=UTC))
    hand_hub.monitor()  # it never reported: missed, and its queued run cancelled
    assert hand_hub.client.get(f"/api/v1/runs/{body['run_id']}").json()["status"] == "cancelled"
    assert revoked_at(hand_hub, body["run_id"]) == "2026-03-02T09:12:00Z"
    hand_hub.clock.advance(minutes=10)
    heartbeat = {"events": [{"id": "h1", "type": "heartbeat"}]}
    token = as_token(hand_hub.client, body["token"])
    assert (
        hand_hub.client.post(body["events_url"], json=heartbeat, headers=token).status_code == 401
    )


def test_a_lost_run_keeps_its_token_and_comes_back_with_it(hand_hub: HandHub, recorder: Recorder):
    body = called_back(hand_hub, recorder, limits={"lost_after": "5m"})
    token = as_token(hand_hub.client, body["token"])
    progress = {"events": [{"id": "m1", "type": "progress", "done": 1}]}
    assert hand_hub.client.post(body["events_url"], json=progress, headers=token).status_code == 200
    hand_hub.clock.advance(minutes=6)
    hand_hub.monitor()
    run_url = f"/api/v1/runs/{body['run_id']}"
    assert hand_hub.client.get(run_url).json()["status"] == "lost"
    assert revoked_at(hand_hub, body["run_id"]) is None
    heartbeat = {"events": [{"id": "h1", "type": "heartbeat"}]}
    assert (
        hand_hub.client.post(body["events_url"], json=heartbeat, headers=token).status_code == 200
    )
    assert hand_hub.client.get(run_url, headers=token).json()["status"] == "running"
