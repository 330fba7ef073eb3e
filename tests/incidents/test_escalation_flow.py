"""Incidents on a real hub with a fake clock: paging, escalation, acknowledgement, links."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.incidents.conftest import escalate, paths
from tests.monitoring.conftest import HandHub, Recorder


def open_incident(hand_hub: HandHub, **extra: object) -> dict:
    body = {"service": "payments", "summary": "card payments failing", **extra}
    response = hand_hub.client.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_person_on_call_is_paged_through_the_outbox(oncall: HandHub, recorder: Recorder):
    incident = open_incident(oncall, runbook_url="https://wiki.example.com/payments")
    assert incident["status"] == "triggered"
    assert not recorder.requests  # nothing leaves from the request itself
    oncall.dispatch()
    assert paths(recorder) == ["/ana/push"]
    page = recorder.requests[0]["json"]
    assert page["title"] == f"[error] #{incident['id']} card payments failing"
    assert "runbook: https://wiki.example.com/payments" in page["message"]
    assert "Acknowledge: http://127.0.0.1:8480/incidents/" in page["message"]
    assert any("Incident #" in text and "triggered" in text for text in oncall.room("ops"))


def test_sms_follows_after_five_minutes_then_the_manager_after_fifteen(
    oncall: HandHub, recorder: Recorder
):
    open_incident(oncall)
    oncall.dispatch()
    oncall.clock.advance(minutes=4, seconds=59)
    assert not escalate(oncall)
    oncall.dispatch()
    assert paths(recorder) == ["/ana/push"]
    oncall.clock.advance(seconds=1)
    oncall.dispatch()
    assert paths(recorder) == ["/ana/push", "/ana/sms"]
    oncall.clock.advance(minutes=10)
    assert escalate(oncall)
    assert not escalate(oncall)  # each step once
    oncall.dispatch()
    assert paths(recorder)[2:] == ["/boss/push"]


def test_the_policy_repeats_then_stops(oncall: HandHub, recorder: Recorder):
    incident = open_incident(oncall)
    for minutes in (15, 30, 15):  # boss, then ana again (repeat 1), then boss again
        oncall.clock.advance(minutes=minutes)
        assert escalate(oncall)
    oncall.clock.advance(hours=5)
    assert not escalate(oncall)
    pages = oncall.client.get(f"/api/v1/incidents/{incident['id']}").json()["pages"]
    assert [(p["position"], p["person"]) for p in pages] == [
        (0, "ana"),
        (1, "boss"),
        (2, "ana"),
        (3, "boss"),
    ]


def test_acknowledging_stops_escalation_and_withdraws_the_pending_sms(
    oncall: HandHub, recorder: Recorder
):
    incident = open_incident(oncall)
    oncall.dispatch()
    oncall.clock.advance(minutes=2)
    response = oncall.client.post(f"/api/v1/incidents/{incident['id']}/acknowledge")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "acknowledged"
    oncall.clock.advance(hours=2)
    assert not escalate(oncall)
    oncall.dispatch()
    # Neither the SMS nor the manager: only ana's push, then the notice of her acknowledgement.
    assert paths(recorder) == ["/ana/push", "/ana/push"]
    assert recorder.requests[1]["json"]["title"].startswith(f"#{incident['id']} acknowledged by")
    timeline = [e["kind"] for e in response.json()["timeline"]]
    assert timeline == ["triggered", "notified", "acknowledged"]
    resolved = oncall.client.post(f"/api/v1/incidents/{incident['id']}/resolve").json()
    assert resolved["status"] == "resolved"


def test_the_same_dedup_key_folds_into_the_open_incident(oncall: HandHub, recorder: Recorder):
    first = open_incident(oncall, dedup_key="db-down")
    second = open_incident(oncall, dedup_key="db-down")
    assert second["id"] == first["id"] and second["created"] is False
    oncall.client.post(f"/api/v1/incidents/{first['id']}/resolve")
    third = open_incident(oncall, dedup_key="db-down")
    assert third["id"] != first["id"]


def test_the_rotation_decides_who_is_paged(oncall: HandHub, recorder: Recorder):
    oncall.clock.advance(days=7)  # Monday 9 March, 10:00 Paris: bo's week
    open_incident(oncall)
    oncall.dispatch()
    assert paths(recorder) == ["/bo/push"]


def test_an_override_is_paged_instead_of_the_rotation(oncall: HandHub, recorder: Recorder):
    cover = {"person": "boss", "starts_at": "2026-03-02T00:00:00Z", "ends_at": "2026-03-03T00:00Z"}
    response = oncall.client.post("/api/v1/oncall/rotations/primary/overrides", json=cover)
    assert response.status_code == 201, response.text
    open_incident(oncall)
    oncall.dispatch()
    assert paths(recorder) == ["/boss/push"]


def test_a_deleted_override_gives_the_shift_back_to_the_rotation(
    oncall: HandHub, recorder: Recorder
):
    cover = {"person": "boss", "starts_at": "2026-03-02T00:00:00Z", "ends_at": "2026-03-03T00:00Z"}
    made = oncall.client.post("/api/v1/oncall/rotations/primary/overrides", json=cover).json()
    url = f"/api/v1/oncall/rotations/primary/overrides/{made['id']}"
    assert oncall.client.delete(url).status_code == 204
    assert oncall.client.delete(url).status_code == 404
    open_incident(oncall)
    oncall.dispatch()
    assert paths(recorder) == ["/ana/push"]


def _link(recorder: Recorder, action: str) -> str:
    for line in recorder.requests[0]["json"]["message"].splitlines():
        if line.startswith(action):
            parts = urlsplit(line.split(": ", 1)[1])
            return f"{parts.path}?{parts.query}"
    raise AssertionError(action)


def test_a_signed_link_acknowledges_in_one_click(oncall: HandHub, recorder: Recorder):
    incident = open_incident(oncall)
    oncall.dispatch()
    link = _link(recorder, "Acknowledge")
    shown = oncall.client.get(link, headers={"Authorization": ""})
    assert shown.status_code == 200 and "<form method='post'>" in shown.text
    assert oncall.client.get(f"/api/v1/incidents/{incident['id']}").json()["status"] == "triggered"
    done = oncall.client.post(link, headers={"Authorization": ""})
    assert done.status_code == 200, done.text
    view = oncall.client.get(f"/api/v1/incidents/{incident['id']}").json()
    assert view["status"] == "acknowledged" and view["acknowledged_by"] == "ana"


def test_forged_and_expired_links_are_refused(oncall: HandHub, recorder: Recorder):
    incident = open_incident(oncall)
    oncall.dispatch()
    link = _link(recorder, "Resolve")
    forged = link.replace("person=ana", "person=bo")
    assert oncall.client.post(forged, headers={"Authorization": ""}).status_code == 403
    oncall.clock.advance(hours=25)
    assert oncall.client.post(link, headers={"Authorization": ""}).status_code == 403
    view = oncall.client.get(f"/api/v1/incidents/{incident['id']}").json()
    assert view["status"] == "triggered"


def test_a_service_that_requires_runbooks_refuses_triggers_without_one(
    oncall: HandHub, recorder: Recorder
):
    oncall.client.put(
        "/api/v1/oncall/services/payments",
        json={"room": "ops", "policy": "default", "require_runbook": True},
    )
    response = oncall.client.post("/api/v1/incidents", json={"service": "payments", "summary": "x"})
    assert response.status_code == 422
    assert response.json()["field"] == "runbook_url"
    assert oncall.client.get("/api/v1/incidents").json()["incidents"] == []


def test_incidents_without_a_runbook_are_flagged(oncall: HandHub, recorder: Recorder):
    incident = open_incident(oncall)
    assert incident["runbook_missing"] is True
    assert any("no runbook" in text for text in oncall.room("ops"))


def test_a_service_without_a_policy_records_incidents_and_pages_nobody(
    oncall: HandHub, recorder: Recorder
):
    oncall.client.put("/api/v1/oncall/services/quiet", json={"room": "ops"})
    response = oncall.client.post("/api/v1/incidents", json={"service": "quiet", "summary": "x"})
    assert response.status_code == 201 and response.json()["pages"] == []
    oncall.clock.advance(hours=1)
    assert not escalate(oncall)
    oncall.dispatch()
    assert recorder.requests == []
    missing = oncall.client.post("/api/v1/incidents", json={"service": "ghost", "summary": "x"})
    assert missing.status_code == 404 and missing.json()["field"] == "service"
