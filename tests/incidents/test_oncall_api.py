"""The on-call configuration API: bad input names the field; reports; calendar feeds."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

import pytest

from tests.incidents.conftest import put
from tests.monitoring.conftest import HandHub, Recorder
from thereyet.server.services.errors import Conflict


def test_bad_definitions_name_the_field(oncall: HandHub, recorder: Recorder):
    cases = [
        ("people/x", {"timezone": "Mars/Base"}, "timezone"),
        ("people/x", {"work_start": "25:00"}, "work_start"),
        ("people/x", {"work_start": "18:00", "work_end": "09:00"}, "work_end"),
        ("people/x", {"work_days": [9]}, "work_days.0"),
        ("people/x", {"contact_methods": [{"name": "p", "url": "nope"}]}, "contact_methods"),
        ("people/x", {"rules": [{"method": "ghost"}]}, "rules.0"),
        ("people/Bad Name", {}, "name"),
        (
            "rotations/r",
            {"timezone": "UTC", "start_date": "2026-01-01", "participants": ["ghost"]},
            "participants.0",
        ),
        (
            "rotations/r",
            {"timezone": "UTC", "start_date": "2026-13-01", "participants": ["ana"]},
            "start_date",
        ),
        (
            "rotations/r",
            {"timezone": "UTC", "start_date": "2026-01-01", "participants": []},
            "participants",
        ),
        ("policies/p", {"steps": []}, "steps"),
        (
            "policies/p",
            {"steps": [{"targets": [{"kind": "person", "name": "ghost"}]}]},
            "steps.0.targets.0.name",
        ),
        (
            "policies/p",
            {"steps": [{"targets": [{"kind": "pigeon", "name": "x"}]}]},
            "steps.0.targets.0.kind",
        ),
        ("services/s", {"policy": "ghost"}, "policy"),
    ]
    for path, body, field in cases:
        response = oncall.client.put(f"/api/v1/oncall/{path}", json=body)
        assert 400 <= response.status_code < 500, (path, body, response.text)
        assert response.json()["field"] == field, (path, body, response.json())
    assert [p["name"] for p in oncall.client.get("/api/v1/oncall/people").json()["people"]] == [
        "ana",
        "bo",
        "boss",
    ]


def test_the_rotation_view_and_a_swap(oncall: HandHub, recorder: Recorder):
    view = oncall.client.get("/api/v1/oncall/rotations/primary").json()
    assert view["on_call"] == "ana"
    assert [s["person"] for s in view["upcoming"]][:3] == ["ana", "bo", "ana"]
    swap = {"first": "2026-03-02T12:00:00Z", "second": "2026-03-09T12:00:00Z"}
    response = oncall.client.post("/api/v1/oncall/rotations/primary/swaps", json=swap)
    assert response.status_code == 201, response.text
    assert oncall.client.get("/api/v1/oncall/rotations/primary").json()["on_call"] == "bo"
    at = oncall.client.get(
        "/api/v1/oncall/rotations/primary", params={"at": "2026-03-10T12:00:00Z"}
    )
    assert at.json()["on_call"] == "ana"
    naive = oncall.client.post(
        "/api/v1/oncall/rotations/primary/overrides",
        json={
            "person": "ana",
            "starts_at": "2026-03-02T00:00:00",
            "ends_at": "2026-03-03T00:00:00Z",
        },
    )
    assert naive.status_code == 422 and naive.json()["field"] == "starts_at"


def test_calendar_feeds_are_signed(oncall: HandHub, recorder: Recorder):
    url = oncall.client.get("/api/v1/oncall/rotations/primary/feed").json()["url"]
    parts = urlsplit(url)
    feed = oncall.client.get(f"{parts.path}?{parts.query}", headers={"Authorization": ""})
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:On call: ana (primary)" in feed.text
    person = oncall.client.get("/api/v1/oncall/people/bo/feed").json()["url"]
    parts = urlsplit(person)
    text = oncall.client.get(f"{parts.path}?{parts.query}", headers={"Authorization": ""}).text
    assert "bo (primary)" in text and "ana (primary)" not in text
    forged = oncall.client.get("/ical/rotations/primary.ics?sig=00", headers={"Authorization": ""})
    assert forged.status_code == 403


def test_the_monthly_report_splits_pages_by_each_persons_hours(oncall: HandHub, recorder: Recorder):
    def page_now() -> None:
        body = {"service": "payments", "summary": "x"}
        incident = oncall.client.post("/api/v1/incidents", json=body).json()
        oncall.client.post(f"/api/v1/incidents/{incident['id']}/resolve")

    page_now()  # Monday 09:00 UTC = 10:00 Paris: ana, inside her hours
    oncall.clock.advance(hours=13)  # 23:00 Paris: ana, outside
    page_now()
    oncall.clock.advance(days=7, hours=-4)  # Monday 9 March 18:00 UTC = 14:00 New York: bo, inside
    page_now()
    oncall.clock.advance(hours=8)  # 22:00 New York (Paris thinks 03:00): bo, outside
    page_now()
    report = oncall.client.get("/api/v1/oncall/reports/2026-03", params={"target": 0}).json()
    lines = {line["person"]: line for line in report["people"]}
    assert (lines["ana"]["inside_hours"], lines["ana"]["outside_hours"]) == (1, 1)
    assert (lines["bo"]["inside_hours"], lines["bo"]["outside_hours"]) == (1, 1)
    assert lines["ana"]["over_target"] and lines["boss"]["pages"] == 0
    assert lines["ana"]["shifts"] >= 2 and lines["bo"]["shifts"] >= 2
    response = oncall.client.get("/api/v1/oncall/reports/2026-03/csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["person"]: r["outside_hours"] for r in rows}["bo"] == "1"
    assert oncall.client.get("/api/v1/oncall/reports/2026-3").json()["field"] == "month"
    page = oncall.client.get("/oncall/report", params={"month": "2026-03", "target": 0})
    assert page.status_code == 200 and "<td>bo</td>" in page.text and "over" in page.text


def test_integrations_and_services_are_listed_without_tokens(oncall: HandHub, recorder: Recorder):
    made = oncall.client.post(
        "/api/v1/oncall/integrations",
        json={"name": "pd", "service": "payments", "kind": "pagerduty"},
    ).json()
    assert len(made["token"]) == 32
    listed = oncall.client.get("/api/v1/oncall/integrations").json()["integrations"]
    assert listed[0]["name"] == "pd" and "token" not in listed[0]
    again = oncall.client.post(
        "/api/v1/oncall/integrations",
        json={"name": "pd", "service": "payments", "kind": "pagerduty"},
    )
    assert again.status_code == 409 and again.json()["field"] == "name"
    assert put(oncall, "services/payments", {"policy": "default"})["policy"] == "default"
    people = oncall.client.get("/api/v1/oncall/people/ana").json()
    assert people["contact_methods"][0]["url"].startswith("json://127.0.0.1")
    assert "/ana/push" not in people["contact_methods"][0]["url"]  # never the whole URL


def test_contact_methods_are_listed_among_channels_with_delivery_status_and_no_secrets(
    any_oncall: HandHub, recorder: Recorder
):
    hand_hub = any_oncall
    secret_url = f"json://pager:s3cret@{recorder.url}/cy/push?token=t0ps3cret"
    cy = {"timezone": "UTC", "contact_methods": [{"name": "push", "url": secret_url}]}
    put(hand_hub, "people/cy", cy)
    made = hand_hub.client.post("/api/v1/channels", json={"name": "ops-chat", "url": secret_url})
    assert made.status_code == 201, made.text
    assert made.json()["kind"] == "channel" and made.json()["person"] is None
    response = hand_hub.client.post(
        "/api/v1/incidents", json={"service": "payments", "summary": "x"}
    )
    assert response.status_code == 201, response.text
    hand_hub.dispatch()  # ana's push is sent now, her SMS waits five minutes

    channels = {c["name"]: c for c in hand_hub.client.get("/api/v1/channels").json()["channels"]}
    assert sorted(channels) == [
        "@ana/push",
        "@ana/sms",
        "@bo/push",
        "@bo/sms",
        "@boss/push",
        "@boss/sms",
        "@cy/push",
        "ops-chat",
    ]
    ana = channels["@ana/push"]
    assert (ana["kind"], ana["person"], ana["method"]) == ("contact", "ana", "push")
    assert (ana["sent"], ana["pending"], ana["failed"]) == (1, 0, 0)
    assert ana["last_sent_at"] == "2026-03-02T09:00:00Z"
    assert (channels["@ana/sms"]["sent"], channels["@ana/sms"]["pending"]) == (0, 1)
    assert channels["ops-chat"]["kind"] == "channel" and channels["ops-chat"]["method"] is None
    for name in ("@cy/push", "ops-chat"):
        assert channels[name]["url"] == f"json://{recorder.url}/…"
    assert "s3cret" not in str(channels) and "pager" not in str(channels)


def test_a_contact_method_is_changed_with_its_person_not_removed_as_a_channel(
    oncall: HandHub, recorder: Recorder
):
    with pytest.raises(Conflict, match="ana's contact method 'push'"):
        oncall.call(oncall.app.state.notifications.delete_channel, "@ana/push")
    names = [c["name"] for c in oncall.client.get("/api/v1/channels").json()["channels"]]
    assert "@ana/push" in names
