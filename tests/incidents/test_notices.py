"""Those already paged are told, once each, when their incident is acknowledged or resolved."""

from __future__ import annotations

from typing import Any

from tests.incidents.conftest import escalate, integration, paths, put
from tests.incidents.test_alertmanager_webhook import notification
from tests.incidents.test_escalation_flow import _link, open_incident
from tests.incidents.test_pagerduty import event
from tests.monitoring.conftest import HandHub, Recorder


def notices(recorder: Recorder, words: str) -> list[dict[str, Any]]:
    return [r for r in recorder.requests if words in r["json"]["title"]]


def page_ana_then_boss_then_ana_again(hand_hub: HandHub, recorder: Recorder) -> dict[str, Any]:
    """ana (push, then SMS) and the ops-chat channel, boss after 15 minutes, ana again after 45."""
    created = hand_hub.client.post(
        "/api/v1/channels", json={"name": "ops-chat", "url": f"json://{recorder.url}/ops-chat"}
    )
    assert created.status_code == 201, created.text
    first = [{"kind": "rotation", "name": "primary"}, {"kind": "channel", "name": "ops-chat"}]
    steps = [
        {"targets": first, "delay_minutes": 15},
        {"targets": [{"kind": "person", "name": "boss"}], "delay_minutes": 30},
    ]
    put(hand_hub, "policies/default", {"steps": steps, "repeat": 1})
    incident = open_incident(hand_hub)
    hand_hub.dispatch()
    for minutes in (5, 10, 30):
        hand_hub.clock.advance(minutes=minutes)
        escalate(hand_hub)
        # An incident's steps leave in order: boss's SMS (due 9:20) before round two.
        while hand_hub.dispatch():
            pass
    assert sorted(paths(recorder)) == [
        "/ana/push",
        "/ana/push",
        "/ana/sms",
        "/boss/push",
        "/boss/sms",
        "/ops-chat",
        "/ops-chat",
    ]
    return incident


def test_each_contact_method_and_channel_paged_is_told_once_per_change(
    any_oncall: HandHub, recorder: Recorder
):
    hand_hub = any_oncall
    incident = page_ana_then_boss_then_ana_again(hand_hub, recorder)
    number = incident["id"]
    hand_hub.clock.advance(minutes=1)  # ana's second SMS is still 4 minutes away: it is withdrawn
    acked = hand_hub.client.post(f"/api/v1/incidents/{number}/acknowledge")
    assert acked.status_code == 200, acked.text
    assert not notices(recorder, "acknowledged")  # nothing leaves from the request itself
    hand_hub.dispatch()
    told = notices(recorder, f"#{number} acknowledged by admin: card payments failing")
    assert sorted(r["path"] for r in told) == [
        "/ana/push",
        "/ana/sms",
        "/boss/push",
        "/boss/sms",
        "/ops-chat",
    ]
    assert f"http://127.0.0.1:8480/incidents/{number}" in told[0]["json"]["message"]
    assert "/bo/" not in str(paths(recorder))  # bo was never paged
    assert acked.json()["timeline"][-1]["data"] == {"withdrawn": 1, "told": 5}

    again = hand_hub.client.post(f"/api/v1/incidents/{number}/acknowledge")
    assert again.status_code == 200 and again.json()["status"] == "acknowledged"
    hand_hub.dispatch()
    assert len(notices(recorder, "acknowledged")) == 5  # a second acknowledgement says nothing

    hand_hub.client.post(f"/api/v1/incidents/{number}/resolve")
    hand_hub.client.post(f"/api/v1/incidents/{number}/resolve")
    hand_hub.dispatch()
    resolved = notices(recorder, f"#{number} resolved by admin")
    assert sorted(r["path"] for r in resolved) == [
        "/ana/push",
        "/ana/sms",
        "/boss/push",
        "/boss/sms",
        "/ops-chat",
    ]


def test_a_page_withdrawn_before_it_left_tells_nobody(oncall: HandHub, recorder: Recorder):
    incident = open_incident(oncall)
    oncall.client.post(f"/api/v1/incidents/{incident['id']}/acknowledge")
    oncall.clock.advance(hours=1)
    oncall.dispatch()
    assert recorder.requests == []


def test_only_the_methods_that_carried_a_page_are_told(oncall: HandHub, recorder: Recorder):
    incident = open_incident(oncall)
    oncall.dispatch()
    oncall.clock.advance(minutes=2)
    oncall.client.post(f"/api/v1/incidents/{incident['id']}/resolve")
    oncall.clock.advance(hours=2)
    escalate(oncall)
    oncall.dispatch()
    assert paths(recorder) == ["/ana/push", "/ana/push"]  # the page, then the notice
    assert recorder.requests[1]["json"]["title"].startswith(f"#{incident['id']} resolved by admin")


def test_a_page_that_never_arrived_tells_nobody(oncall: HandHub, recorder: Recorder):
    recorder.status = 500
    incident = open_incident(oncall)
    for _ in range(12):  # ten attempts each for ana's push and SMS, then they have failed
        oncall.dispatch()
        oncall.clock.advance(hours=1)
    deliveries = oncall.client.get("/api/v1/deliveries").json()["deliveries"]
    assert {(d["channel"], d["status"]) for d in deliveries} == {
        ("@ana/push", "failed"),
        ("@ana/sms", "failed"),
    }
    recorder.status = 200
    oncall.client.post(f"/api/v1/incidents/{incident['id']}/acknowledge")
    oncall.dispatch()
    assert recorder.bodies() == []


def test_pagerduty_acknowledge_and_resolve_tell_those_paged(oncall: HandHub, recorder: Recorder):
    key = integration(oncall, "pagerduty")
    assert oncall.client.post("/v2/enqueue", json=event(key, dedup_key="disk")).status_code == 202
    oncall.dispatch()
    for action in ("acknowledge", "resolve", "resolve"):
        answer = oncall.client.post("/v2/enqueue", json=event(key, action, dedup_key="disk"))
        assert answer.status_code == 202
        oncall.dispatch()
    titles = [r["json"]["title"] for r in recorder.requests]
    assert titles == [
        "[critical] #1 DiskFull on db-1",
        "#1 acknowledged by pagerduty: DiskFull on db-1",
        "#1 resolved by pagerduty: DiskFull on db-1",
    ]


def test_a_resolved_alertmanager_alert_tells_those_paged(oncall: HandHub, recorder: Recorder):
    url = f"/api/v1/alerts/{integration(oncall, 'alertmanager')}/alertmanager"
    assert oncall.client.post(url, json=notification("firing", ("aaa", "firing"))).is_success
    oncall.dispatch()
    assert oncall.client.post(url, json=notification("resolved", ("aaa", "resolved"))).is_success
    oncall.dispatch()
    assert [r["json"]["title"] for r in notices(recorder, "resolved by")] == [
        "#1 resolved by alertmanager: DiskFull: disk full on aaa"
    ]


def test_a_one_click_acknowledgement_is_told_by_name(oncall: HandHub, recorder: Recorder):
    incident = open_incident(oncall)
    oncall.dispatch()
    done = oncall.client.post(_link(recorder, "Acknowledge"), headers={"Authorization": ""})
    assert done.status_code == 200, done.text
    oncall.dispatch()
    assert [r["json"]["title"] for r in notices(recorder, "acknowledged")] == [
        f"#{incident['id']} acknowledged by ana: card payments failing"
    ]
