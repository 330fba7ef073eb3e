"""The monitor on a real hub, driven by a fake clock: each transition is an event,
a card in the room and a notification through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.monitoring.conftest import HandHub, Recorder


def route_to(hand_hub: HandHub, recorder: Recorder, **route: object) -> None:
    url = f"json://{recorder.url}/hook"
    assert (
        hand_hub.client.post("/api/v1/channels", json={"name": "ops-hook", "url": url}).status_code
        == 201
    )
    assert (
        hand_hub.client.post("/api/v1/routes", json={"channel": "ops-hook", **route}).status_code
        == 201
    )


def test_a_job_that_did_not_start_is_late_after_grace_then_missed(
    hand_hub: HandHub, recorder: Recorder
):
    route_to(hand_hub, recorder, job="backup")
    view = hand_hub.put_schedule("backup", schedule="0 * * * *", limits={"grace": "5m"}, room="ops")
    assert (view["due_at"], view["state"]) == ("2026-03-02T10:00:00Z", "ok")
    assert view["ping_url"].startswith("http://127.0.0.1:8480/ping/")  # absolute

    hand_hub.clock.set(datetime(2026, 3, 2, 10, 4, 59, tzinfo=UTC))
    hand_hub.monitor()
    assert not any("late" in t for t in hand_hub.room("ops"))
    hand_hub.clock.set(datetime(2026, 3, 2, 10, 5, tzinfo=UTC))
    hand_hub.monitor()
    hand_hub.monitor()  # a second look says nothing new
    assert hand_hub.room("ops") == [
        "**backup** is late: it was due at 10:00 UTC and has not started"
    ]
    hand_hub.dispatch()
    assert [b["title"] for b in recorder.bodies()] == [
        "backup is late: it was due at 10:00 UTC and has not started"
    ]

    hand_hub.clock.set(datetime(2026, 3, 2, 11, 0, tzinfo=UTC))
    hand_hub.monitor()
    hand_hub.dispatch()
    assert hand_hub.room("ops")[-1] == "**backup** missed its run due at 10:00 UTC"
    assert len(recorder.bodies()) == 2
    view = hand_hub.client.get("/api/v1/jobs/backup/schedule").json()
    assert (view["state"], view["due_at"]) == ("missed", "2026-03-02T11:00:00Z")
    assert [e["kind"] for e in view["events"]] == ["late", "missed"]

    # A run that starts puts the job back on schedule.
    hand_hub.clock.advance(30)
    assert hand_hub.client.post("/api/v1/runs", json={"job": "backup"}).status_code == 201
    view = hand_hub.client.get("/api/v1/jobs/backup/schedule").json()
    assert (view["state"], view["due_at"]) == ("ok", "2026-03-02T12:00:00Z")


def test_a_run_that_starts_in_time_keeps_the_job_quiet(hand_hub: HandHub):
    hand_hub.put_schedule("backup", schedule="every 10m", limits={"grace": 60}, room="ops")
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 10, 20, tzinfo=UTC))
    assert hand_hub.client.post("/api/v1/runs", json={"job": "backup"}).status_code == 201
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 15, tzinfo=UTC))
    hand_hub.monitor()
    assert (
        hand_hub.client.get("/api/v1/jobs/backup/schedule").json()["due_at"]
        == "2026-03-02T09:20:00Z"
    )
    assert not any("late" in t for t in hand_hub.room("ops"))


def test_a_run_stalls_recovers_goes_overdue_and_is_lost(hand_hub: HandHub, recorder: Recorder):
    route_to(hand_hub, recorder, room="ops", events=["stalled", "recovered", "overdue", "lost"])
    hand_hub.put_schedule(
        "export",
        limits={"stall_after": "10m", "max_duration": "1h", "lost_after": "30m"},
        room="ops",
    )
    run = hand_hub.client.post("/api/v1/runs", json={"job": "export", "total": 100}).json()
    events = f"/api/v1/runs/{run['id']}/events"

    hand_hub.clock.advance(minutes=10)
    hand_hub.monitor()
    assert hand_hub.room("ops")[-1] == "**export** is stalled: no progress for 10m"
    assert (
        hand_hub.client.post(
            events, json={"events": [{"id": "p1", "type": "progress", "done": 5}]}
        ).status_code
        == 200
    )
    hand_hub.monitor()
    assert hand_hub.room("ops")[-1] == "**export** is making progress again"

    hand_hub.clock.advance(minutes=50)  # 1 h since the start; the last progress was 50 min ago
    hand_hub.monitor()
    texts = hand_hub.room("ops")
    assert "**export** is overdue: running longer than its limit of 1h" in texts
    assert texts[-1] == "**export** is stalled: no progress for 50m" or any(
        "lost" in t for t in texts
    )
    run_view = hand_hub.client.get(f"/api/v1/runs/{run['id']}").json()
    assert run_view["status"] == "lost"
    assert any(t.startswith("**export** lost") for t in hand_hub.room("ops"))
    hand_hub.dispatch()
    said = [b["title"].split(":")[0] for b in recorder.bodies()]
    assert said[:3] == [
        "export is stalled",
        "export is making progress again",
        "export is overdue",
    ] or set(said) >= {
        "export is stalled",
        "export is making progress again",
        "export is overdue",
    }
    assert any(t.startswith("export lost") for t in said)
    kinds = [
        e["transition"]
        for e in hand_hub.client.get(events).json()["events"]
        if e["type"] == "monitor"
    ]
    assert sorted(kinds) == sorted(["stalled", "recovered", "overdue", "stalled", "lost"])

    # A word from the run brings it back.
    hand_hub.clock.advance(5)
    hand_hub.client.post(events, json={"events": [{"id": "h1", "type": "heartbeat"}]})
    assert hand_hub.client.get(f"/api/v1/runs/{run['id']}").json()["status"] == "running"


def test_bad_schedule_input_names_the_field(hand_hub: HandHub):
    put = hand_hub.client.put
    cases = [
        ({"schedule": "61 * * * *"}, "schedule"),
        ({"schedule": "0 3 * * *", "timezone": "Mars/Base"}, "timezone"),
        ({"limits": {"grace": "soon"}}, "limits.grace"),
        ({"limits": {"grace": -1}}, "limits.grace"),
        ({"target": {"kind": "http", "url": "ftp://x"}}, "target.url"),
        ({"target": {"kind": "ssh", "url": "http://x"}}, "target.kind"),
        ({"bogus": 1}, "bogus"),
    ]
    for body, field in cases:
        response = put("/api/v1/jobs/backup/schedule", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field, (body, response.json())
    assert (
        hand_hub.client.get("/api/v1/jobs/backup/schedule").status_code == 404
    )  # nothing half-written


def test_the_next_due_times_are_shown_in_the_jobs_zone_rules(hand_hub: HandHub):
    hand_hub.clock.set(datetime(2026, 3, 28, 12, tzinfo=UTC))
    view = hand_hub.put_schedule("nightly", schedule="30 2 * * *", timezone="Europe/Berlin")
    # 29 March: 02:30 does not exist in Berlin; cron runs it at 03:00 CEST (01:00 UTC).
    assert view["next"] == ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"]
    assert view["timezone"] == "Europe/Berlin"
    assert hand_hub.clock.now() + timedelta(days=1) > datetime(2026, 3, 29, 1, tzinfo=UTC)
