"""Alertmanager's webhook (version 4), as Alertmanager sends it, without the binary."""

from __future__ import annotations

from tests.incidents.conftest import integration, paths
from tests.monitoring.conftest import HandHub, Recorder


def notification(status: str, *alerts: tuple[str, str]) -> dict:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "hub",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull"},
        "commonAnnotations": {},
        "externalURL": "http://am:9093",
        "alerts": [
            {
                "status": alert_status,
                "labels": {"alertname": "DiskFull", "instance": fingerprint, "severity": "warning"},
                "annotations": {
                    "summary": f"disk full on {fingerprint}",
                    "runbook_url": "https://rb",
                },
                "startsAt": "2026-03-02T09:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom/graph",
                "fingerprint": fingerprint,
            }
            for fingerprint, alert_status in alerts
        ],
    }


def test_one_incident_per_fingerprint_and_resolved_alerts_resolve(
    oncall: HandHub, recorder: Recorder
):
    token = integration(oncall, "alertmanager")
    url = f"/api/v1/alerts/{token}/alertmanager"
    firing = notification("firing", ("aaa", "firing"), ("bbb", "firing"))
    response = oncall.client.post(url, json=firing)
    assert response.status_code == 200, response.text
    assert oncall.client.post(url, json=firing).status_code == 200  # a repeat changes nothing
    found = oncall.client.get("/api/v1/incidents").json()["incidents"]
    assert sorted(i["dedup_key"] for i in found) == ["am:aaa", "am:bbb"]
    assert {i["group_key"] for i in found} == {'{}:{alertname="DiskFull"}'}
    assert {i["runbook_url"] for i in found} == {"https://rb"}
    assert {i["severity"] for i in found} == {"warning"}
    oncall.dispatch()
    assert paths(recorder) == ["/ana/push", "/ana/push"]
    partly = notification("firing", ("aaa", "resolved"), ("bbb", "firing"))
    assert oncall.client.post(url, json=partly).json()["resolved"] == 1
    status = {
        i["dedup_key"]: i["status"]
        for i in oncall.client.get("/api/v1/incidents").json()["incidents"]
    }
    assert status == {"am:aaa": "resolved", "am:bbb": "triggered"}


def test_bad_notifications_name_the_field_and_write_nothing(oncall: HandHub, recorder: Recorder):
    token = integration(oncall, "alertmanager")
    url = f"/api/v1/alerts/{token}/alertmanager"
    bad = notification("firing", ("aaa", "firing"))
    bad["version"] = "3"
    response = oncall.client.post(url, json=bad)
    assert response.status_code == 422 and response.json()["field"] == "version"
    bad = notification("firing", ("aaa", "firing"), ("bbb", "firing"))
    del bad["alerts"][1]["fingerprint"]
    response = oncall.client.post(url, json=bad)
    assert response.json()["field"] == "alerts.1.fingerprint"
    assert (
        oncall.client.post(
            "/api/v1/alerts/nope/alertmanager", json=notification("firing")
        ).status_code
        == 404
    )
    oncall.client.put(
        "/api/v1/oncall/services/payments",
        json={"room": "ops", "policy": "default", "require_runbook": True},
    )
    bad = notification("firing", ("aaa", "firing"), ("bbb", "firing"))
    del bad["alerts"][1]["annotations"]["runbook_url"]
    response = oncall.client.post(url, json=bad)
    assert response.status_code == 422
    assert response.json()["field"] == "alerts.1.annotations.runbook_url"
    assert oncall.client.get("/api/v1/incidents").json()["incidents"] == []  # not half-written


def test_the_generic_format(oncall: HandHub, recorder: Recorder):
    token = integration(oncall, "generic")
    url = f"/api/v1/alerts/{token}"
    sent = {"action": "trigger", "key": "queue-depth", "summary": "queue is 10k deep"}
    response = oncall.client.post(url, json=sent)
    assert response.status_code == 202, response.text
    assert response.json()["key"] == "queue-depth"
    assert oncall.client.post(url, json={"action": "resolve"}).json()["field"] == "key"
    assert oncall.client.post(url, json={"action": "trigger"}).json()["field"] == "summary"
    assert (
        oncall.client.post(url, json={"action": "explode", "key": "x"}).json()["field"] == "action"
    )
    done = oncall.client.post(url, json={"action": "resolve", "key": "queue-depth"})
    assert done.json() == {"key": "queue-depth", "changed": True}
    # A token of one kind does not open another kind's endpoint.
    assert (
        oncall.client.post(
            f"/api/v1/alerts/{token}/alertmanager", json=notification("firing")
        ).status_code
        == 404
    )
