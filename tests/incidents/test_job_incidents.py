"""Failed, lost, missed, stalled and overdue runs open incidents for the jobs that ask for it."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.incidents.conftest import paths, put
from tests.monitoring.conftest import HandHub, Recorder


def set_runbook(hand_hub: HandHub, job: str, url: str) -> None:
    response = hand_hub.client.patch(f"/api/v1/jobs/{job}", json={"runbook_url": url})
    assert response.status_code == 200, response.text


def fail(hand_hub: HandHub, job: str) -> str:
    run = hand_hub.client.post("/api/v1/runs", json={"job": job, "room": "ops"}).json()
    finish = {"status": "failed", "exit_code": 3, "error": "upstream answered 503"}
    assert hand_hub.client.post(f"/api/v1/runs/{run['id']}/finish", json=finish).status_code == 200
    return str(run["id"])


def test_a_failed_run_opens_an_incident_with_the_jobs_runbook(oncall: HandHub, recorder: Recorder):
    assert oncall.client.post("/api/v1/runs", json={"job": "billing"}).status_code == 201
    set_runbook(oncall, "billing", "https://wiki/billing")
    put(oncall, "jobs/billing", {"service": "payments", "events": ["failed"]})
    run_id = fail(oncall, "billing")
    [incident] = oncall.client.get("/api/v1/incidents").json()["incidents"]
    assert incident["job"] == "billing" and incident["run_id"] == run_id
    assert incident["dedup_key"] == "job:billing:failed"
    assert incident["runbook_url"] == "https://wiki/billing"
    assert "upstream answered 503" in incident["summary"]
    fail(oncall, "billing")  # a second failure folds into the open incident
    assert len(oncall.client.get("/api/v1/incidents").json()["incidents"]) == 1
    oncall.dispatch()
    assert "/ana/push" in paths(recorder)
    # A later successful run resolves it.
    run = oncall.client.post("/api/v1/runs", json={"job": "billing"}).json()
    oncall.client.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "succeeded"})
    view = oncall.client.get(f"/api/v1/incidents/{incident['id']}").json()
    assert view["status"] == "resolved" and view["resolved_by"] == "thereyet"


def test_jobs_without_a_rule_or_for_other_events_page_nobody(oncall: HandHub, recorder: Recorder):
    fail(oncall, "quiet-job")
    put(oncall, "jobs/picky", {"service": "payments", "events": ["missed"]})
    fail(oncall, "picky")
    assert oncall.client.get("/api/v1/incidents").json()["incidents"] == []


def test_a_missed_schedule_opens_an_incident(oncall: HandHub, recorder: Recorder):
    oncall.put_schedule("backup", schedule="0 * * * *", limits={"grace": "5m"}, room="ops")
    put(oncall, "jobs/backup", {"service": "payments"})
    oncall.clock.set(datetime(2026, 3, 2, 11, 0, tzinfo=UTC))
    oncall.monitor()
    found = oncall.client.get("/api/v1/incidents").json()["incidents"]
    assert [i["dedup_key"] for i in found] == ["job:backup:missed"]
    assert found[0]["runbook_missing"] is True


def test_a_job_rule_for_a_service_that_requires_runbooks_needs_one(
    oncall: HandHub, recorder: Recorder
):
    put(oncall, "services/strict", {"require_runbook": True})
    response = oncall.client.put("/api/v1/oncall/jobs/nobook", json={"service": "strict"})
    assert response.status_code == 422 and response.json()["field"] == "job"
    unknown = oncall.client.put("/api/v1/oncall/jobs/x", json={"service": "p", "events": ["boom"]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "events"


def test_a_job_given_a_runbook_by_the_api_may_page_a_strict_service(
    oncall: HandHub, recorder: Recorder
):
    put(oncall, "services/strict", {"room": "ops", "policy": "default", "require_runbook": True})
    made = oncall.client.post("/api/v1/jobs", json={"name": "ledger"})
    assert made.status_code == 201, made.text
    refused = oncall.client.put("/api/v1/oncall/jobs/ledger", json={"service": "strict"})
    assert refused.status_code == 422 and refused.json()["field"] == "job"
    set_runbook(oncall, "ledger", "https://wiki.example.com/ledger")
    put(oncall, "jobs/ledger", {"service": "strict", "events": ["failed"]})
    fail(oncall, "ledger")
    [incident] = oncall.client.get("/api/v1/incidents").json()["incidents"]
    assert incident["runbook_url"] == "https://wiki.example.com/ledger"
    assert incident["runbook_missing"] is False
    oncall.dispatch()
    assert "runbook: https://wiki.example.com/ledger" in recorder.requests[0]["json"]["message"]


def _running(hand_hub: HandHub, job: str, **limits: str) -> str:
    hand_hub.put_schedule(job, limits=limits, room="ops")
    put(hand_hub, f"jobs/{job}", {"service": "payments", "events": ["stalled", "overdue", "lost"]})
    run = hand_hub.client.post(
        "/api/v1/runs", json={"job": job, "room": "ops", "total": 100}
    ).json()
    return str(run["id"])


def _report(hand_hub: HandHub, run_id: str, event: dict[str, object]) -> None:
    answer = hand_hub.client.post(f"/api/v1/runs/{run_id}/events", json={"events": [event]})
    assert answer.status_code == 200, answer.text


def _open_keys(hand_hub: HandHub) -> list[str]:
    found = hand_hub.client.get("/api/v1/incidents", params={"status": "triggered"}).json()
    return sorted(i["dedup_key"] for i in found["incidents"])


def test_a_stalled_run_opens_an_incident_that_its_recovery_resolves(oncall: HandHub):
    run_id = _running(oncall, "import", stall_after="10m")
    _report(oncall, run_id, {"id": "p1", "type": "progress", "done": 5})
    oncall.clock.advance(minutes=10)
    oncall.monitor()
    assert _open_keys(oncall) == ["job:import:stalled"]
    [incident] = oncall.client.get("/api/v1/incidents").json()["incidents"]
    assert (incident["run_id"], incident["severity"]) == (run_id, "error")

    oncall.clock.advance(minutes=1)
    _report(oncall, run_id, {"id": "p2", "type": "progress", "done": 6})
    oncall.monitor()
    view = oncall.client.get(f"/api/v1/incidents/{incident['id']}").json()
    assert (view["status"], view["resolved_by"]) == ("resolved", "thereyet")


def test_an_overdue_run_opens_an_incident(oncall: HandHub):
    run_id = _running(oncall, "report", max_duration="1h")
    oncall.clock.advance(minutes=59)
    oncall.monitor()
    assert _open_keys(oncall) == []
    oncall.clock.advance(minutes=1)
    oncall.monitor()
    assert _open_keys(oncall) == ["job:report:overdue"]
    [incident] = oncall.client.get("/api/v1/incidents").json()["incidents"]
    assert incident["run_id"] == run_id


def test_a_lost_run_opens_a_critical_incident(oncall: HandHub):
    run_id = _running(oncall, "sync", lost_after="5m")
    _report(oncall, run_id, {"id": "h1", "type": "heartbeat"})
    oncall.clock.advance(minutes=5)
    oncall.monitor()
    assert _open_keys(oncall) == ["job:sync:lost"]
    [incident] = oncall.client.get("/api/v1/incidents").json()["incidents"]
    assert (incident["run_id"], incident["severity"]) == (run_id, "critical")
    assert oncall.client.get(f"/api/v1/runs/{run_id}").json()["status"] == "lost"
