"""PagerDuty Events API v2 at /v2/enqueue, answered as PagerDuty answers."""

from __future__ import annotations

from tests.incidents.conftest import integration, paths
from tests.monitoring.conftest import HandHub, Recorder


def event(key: str, action: str = "trigger", **extra: object) -> dict:
    body: dict = {"routing_key": key, "event_action": action}
    if action == "trigger":
        body["payload"] = {
            "summary": "DiskFull on db-1",
            "source": "db-1",
            "severity": "critical",
            "custom_details": {"free": "1%", "runbook_url": "https://wiki/disk"},
        }
        body["links"] = [{"href": "https://grafana/d/1", "text": "Dashboard"}]
        body["images"] = [{"src": "https://grafana/d/1.png", "alt": "graph"}]
    return {**body, **extra}


def test_trigger_acknowledge_resolve(oncall: HandHub, recorder: Recorder):
    key = integration(oncall, "pagerduty")
    response = oncall.client.post("/v2/enqueue", json=event(key, dedup_key="disk-db-1"))
    assert response.status_code == 202
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "disk-db-1",
    }
    [incident] = oncall.client.get("/api/v1/incidents").json()["incidents"]
    assert incident["severity"] == "critical" and incident["source"] == "db-1"
    assert incident["runbook_url"] == "https://wiki/disk"
    assert incident["links"][0]["href"] == "https://grafana/d/1"
    assert incident["images"][0]["src"] == "https://grafana/d/1.png"
    assert incident["details"]["custom_details"]["free"] == "1%"
    oncall.dispatch()
    assert paths(recorder) == ["/ana/push"]
    ack = oncall.client.post("/v2/enqueue", json=event(key, "acknowledge", dedup_key="disk-db-1"))
    assert ack.status_code == 202
    done = oncall.client.post("/v2/enqueue", json=event(key, "resolve", dedup_key="disk-db-1"))
    assert done.json()["dedup_key"] == "disk-db-1"
    view = oncall.client.get(f"/api/v1/incidents/{incident['id']}").json()
    assert view["status"] == "resolved" and view["acknowledged_by"] == "pagerduty"


def test_a_trigger_without_dedup_key_gets_one(oncall: HandHub, recorder: Recorder):
    key = integration(oncall, "pagerduty")
    response = oncall.client.post("/v2/enqueue", json=event(key))
    assert response.status_code == 202
    assert len(response.json()["dedup_key"]) == 32


def test_invalid_events_get_400_with_errors_naming_fields(oncall: HandHub, recorder: Recorder):
    key = integration(oncall, "pagerduty")
    bad = event(key)
    bad["payload"] = {"summary": "", "severity": "fatal"}
    response = oncall.client.post("/v2/enqueue", json=bad)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event"
    assert body["message"] == "Event object is invalid"
    assert "'payload.summary' is missing or blank" in body["errors"]
    assert "'payload.source' is missing or blank" in body["errors"]
    assert any("payload.severity" in e for e in body["errors"])
    resolve = oncall.client.post("/v2/enqueue", json=event(key, "resolve"))
    assert resolve.status_code == 400
    assert resolve.json()["errors"] == ["'dedup_key' is missing or blank"]
    for raw in (b"{not json", b"[]", b'"x"'):
        answer = oncall.client.post(
            "/v2/enqueue", content=raw, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400, raw
    unknown = oncall.client.post("/v2/enqueue", json=event("0" * 32))
    assert unknown.status_code == 400
    assert "routing_key" in unknown.json()["errors"][0]
    assert oncall.client.get("/api/v1/incidents").json()["incidents"] == []


def test_required_runbook_is_named_in_pagerduty_errors(oncall: HandHub, recorder: Recorder):
    oncall.client.put(
        "/api/v1/oncall/services/payments",
        json={"room": "ops", "policy": "default", "require_runbook": True},
    )
    key = integration(oncall, "pagerduty")
    bad = event(key)
    del bad["payload"]["custom_details"]["runbook_url"]
    response = oncall.client.post("/v2/enqueue", json=bad)
    assert response.status_code == 400
    assert "payload.custom_details.runbook_url" in response.json()["errors"][0]
    linked = event(key)
    del linked["payload"]["custom_details"]["runbook_url"]
    linked["links"].append({"href": "https://wiki/runbooks/disk", "text": "Runbook"})
    assert oncall.client.post("/v2/enqueue", json=linked).status_code == 202
