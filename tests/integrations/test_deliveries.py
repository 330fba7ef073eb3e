"""Each integration keeps its last deliveries: when, the status its sender was answered,
the error and a short summary; bounded per integration (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from thereyet.server.store.integrations import DELIVERIES_KEPT


def make(client: TestClient, name: str, **body: Any) -> dict[str, Any]:
    made = client.post("/api/v1/integrations", json={"name": name, **body})
    assert made.status_code == 201, made.text
    return dict(made.json())


def deliveries(client: TestClient, name: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/v1/integrations/{name}").json()["deliveries"])


def firing(fingerprint: str) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "status": "firing",
        "receiver": "thereyet",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "instance": "db-1"},
                "annotations": {"summary": "disk 97% full"},
                "fingerprint": fingerprint,
            }
        ],
    }


def test_hook_deliveries_are_kept_with_their_status_and_errors(client: TestClient):
    hook = make(client, "chat", kind="slack", room="ops")
    assert client.post(hook["path"], json={"text": "deployed"}).status_code == 200
    assert client.post(hook["path"], json={}).status_code == 422
    refused, posted = deliveries(client, "chat")  # newest first
    assert posted["status"] == 200 and posted["ok"] and posted["error"] is None
    assert posted["summary"] == "1 message posted"
    assert refused["status"] == 422 and not refused["ok"]
    assert refused["error"] and refused["summary"].startswith("refused")
    assert client.get("/api/v1/integrations/chat").json()["rejected"] == 1


def test_a_bad_signature_is_kept_as_a_refused_delivery(client: TestClient):
    hook = make(client, "gh", kind="github", room="ops")
    headers = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "X-GitHub-Event": "ping"}
    assert client.post(hook["path"], content=b"{}", headers=headers).status_code == 401
    [refused] = deliveries(client, "gh")
    assert refused["status"] == 401 and "does not match" in refused["error"]


def test_alert_source_deliveries_are_kept_with_what_they_asked(client: TestClient):
    assert client.put("/api/v1/oncall/services/payments", json={"room": "ops"}).is_success
    am = make(client, "am", kind="alertmanager", service="payments")
    assert client.post(am["path"], json=firing("f1")).status_code == 200
    assert client.post(am["path"], json={"version": "4"}).status_code == 422
    refused, applied = deliveries(client, "am")
    assert applied["status"] == 200 and applied["summary"] == "1 trigger"
    assert refused["status"] == 422 and refused["error"].startswith("groupKey")

    pd = make(client, "pd", kind="pagerduty", service="payments")
    event = {"routing_key": pd["token"], "event_action": "trigger", "payload": {}}
    assert client.post("/v2/enqueue", json=event).status_code == 400
    [refused] = deliveries(client, "pd")
    assert refused["status"] == 400 and "'payload." in refused["error"]


def test_a_refusal_inside_the_write_is_kept_and_nothing_is_opened(client: TestClient):
    strict = {"room": "ops", "require_runbook": True}
    assert client.put("/api/v1/oncall/services/strict", json=strict).is_success
    generic = make(client, "gen", kind="generic", service="strict")
    alert = {"action": "trigger", "key": "k1", "summary": "no runbook given"}
    answer = client.post(generic["path"], json=alert)
    assert answer.status_code == 422, answer.text
    [refused] = deliveries(client, "gen")
    assert refused["status"] == 422 and "runbook" in refused["error"]
    assert client.get("/api/v1/incidents").json()["incidents"] == []


def test_only_the_newest_deliveries_are_kept_per_integration(client: TestClient):
    hook = make(client, "busy", kind="nagios", room="ops")
    other = make(client, "quiet", kind="nagios", room="ops")
    assert client.post(other["path"], json={"host": "db-1", "state": "DOWN"}).status_code == 200
    for n in range(DELIVERIES_KEPT + 3):
        sent = client.post(hook["path"], json={"host": f"web-{n}", "state": "DOWN"})
        assert sent.status_code == 200
    kept = deliveries(client, "busy")
    assert len(kept) == DELIVERIES_KEPT
    assert len(deliveries(client, "quiet")) == 1  # another integration's are not touched
