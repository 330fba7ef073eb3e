"""Notifications through Apprise to a local HTTP recorder and a local SMTP sink."""

from __future__ import annotations

import pytest

from tests.monitoring.conftest import HandHub, Recorder, SmtpSink


def add_channel(hand_hub: HandHub, name: str, url: str, **route: object) -> None:
    response = hand_hub.client.post("/api/v1/channels", json={"name": name, "url": url})
    assert response.status_code == 201, response.text
    response = hand_hub.client.post("/api/v1/routes", json={"channel": name, **route})
    assert response.status_code == 201, response.text


def fail_a_run(hand_hub: HandHub, job: str = "billing-sync") -> None:
    run = hand_hub.client.post("/api/v1/runs", json={"job": job, "room": "ops"}).json()
    hand_hub.clock.advance(90)
    finish = {"status": "failed", "exit_code": 3, "error": "upstream answered 503"}
    assert hand_hub.client.post(f"/api/v1/runs/{run['id']}/finish", json=finish).status_code == 200


def test_a_failed_run_reaches_json_mattermost_and_email_channels(
    hand_hub: HandHub, recorder: Recorder, smtp_sink: SmtpSink
):
    add_channel(hand_hub, "hook", f"json://{recorder.url}/hook", room="ops")
    add_channel(hand_hub, "chat", f"mmost://{recorder.url}/tok3n?channel=ops", job="billing-sync")
    mail = f"mailto://127.0.0.1:{smtp_sink.port}?from=hub@example.com&to=ops@example.com"
    add_channel(hand_hub, "mail", mail, events=["failed"])
    fail_a_run(hand_hub)
    assert not recorder.requests and not smtp_sink.messages  # nothing leaves from the request
    hand_hub.dispatch()
    by_path = {r["path"]: r["json"] for r in recorder.requests}
    expected = "billing-sync failed after 1m30s: exit 3, `upstream answered 503`"
    assert by_path["/hook"]["title"] == expected
    assert by_path["/hook"]["type"] == "failure"
    assert expected in by_path["/hooks/tok3n"]["text"]
    assert by_path["/hooks/tok3n"]["channel"] == "ops"
    assert len(smtp_sink.messages) == 1
    assert smtp_sink.messages[0].rcpt_tos == ["ops@example.com"]
    assert b"billing-sync failed" in smtp_sink.messages[0].content
    channels = {c["name"]: c for c in hand_hub.client.get("/api/v1/channels").json()["channels"]}
    assert {n: (c["sent"], c["pending"]) for n, c in channels.items()} == {
        "chat": (1, 0),
        "hook": (1, 0),
        "mail": (1, 0),
    }
    assert channels["chat"]["url"] == f"mmost://{recorder.url}/…"  # the token is never shown


def test_events_not_routed_are_not_sent(hand_hub: HandHub, recorder: Recorder):
    add_channel(hand_hub, "hook", f"json://{recorder.url}/hook", job="other-job")
    add_channel(hand_hub, "started", f"json://{recorder.url}/started", events=["started"])
    fail_a_run(hand_hub)
    hand_hub.dispatch()
    assert [r["path"] for r in recorder.requests] == ["/started"]


def test_a_channel_answering_500_gets_the_message_once_after_it_recovers(
    hand_hub: HandHub, recorder: Recorder
):
    add_channel(hand_hub, "hook", f"json://{recorder.url}/hook")
    recorder.status = 500
    fail_a_run(hand_hub)
    hand_hub.dispatch()
    hand_hub.dispatch()  # not due again yet: no second attempt
    assert [r["answered"] for r in recorder.requests] == [500]
    [delivery] = hand_hub.client.get("/api/v1/deliveries", params={"channel": "hook"}).json()[
        "deliveries"
    ]
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert "500" in delivery["last_error"]
    assert hand_hub.client.get("/api/v1/channels").json()["channels"][0]["last_error"]

    hand_hub.clock.advance(10)
    hand_hub.dispatch()
    assert [r["answered"] for r in recorder.requests] == [500, 500]
    recorder.status = 200
    hand_hub.clock.advance(20)
    hand_hub.dispatch()
    for _ in range(3):
        hand_hub.clock.advance(3600)
        hand_hub.dispatch()
    assert [r["answered"] for r in recorder.requests] == [500, 500, 200]
    [delivery] = hand_hub.client.get("/api/v1/deliveries").json()["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("sent", 3)


def test_a_channel_that_keeps_failing_does_not_hold_up_the_others(
    hand_hub: HandHub, recorder: Recorder
):
    add_channel(hand_hub, "dead", "json://127.0.0.1:9/nobody-listens")
    add_channel(hand_hub, "hook", f"json://{recorder.url}/hook")
    for n in range(3):
        fail_a_run(hand_hub, job=f"job-{n}")
    hand_hub.dispatch()
    assert len(recorder.bodies()) == 3
    for _ in range(12):
        hand_hub.clock.advance(3600)
        hand_hub.dispatch()
    statuses = {}
    for d in hand_hub.client.get("/api/v1/deliveries", params={"limit": 50}).json()["deliveries"]:
        statuses.setdefault(d["channel"], set()).add((d["status"], d["attempts"]))
    # The dead channel's rows wait behind its oldest, in order: its own, nobody else's.
    assert statuses == {
        "dead": {("failed", 10), ("pending", 3), ("pending", 0)},
        "hook": {("sent", 1)},
    }
    assert len(recorder.requests) == 3


def test_bad_channels_and_routes_are_refused_with_the_field(hand_hub: HandHub):
    post = hand_hub.client.post
    assert post("/api/v1/channels", json={"name": "x", "url": "nope"}).json()["field"] == "url"
    assert post("/api/v1/channels", json={"name": "x", "url": "bogus://h"}).json()["field"] == "url"
    assert (
        post("/api/v1/channels", json={"name": "Bad Name", "url": "json://h"}).json()["field"]
        == "name"
    )
    assert post("/api/v1/channels", json={"name": "x", "url": "json://h"}).status_code == 201
    assert post("/api/v1/channels", json={"name": "x", "url": "json://h"}).status_code == 409
    assert post("/api/v1/routes", json={"channel": "nope"}).status_code == 404
    bad = post("/api/v1/routes", json={"channel": "x", "events": ["exploded"]})
    assert (bad.status_code, bad.json()["field"]) == (422, "events")
    route = post("/api/v1/routes", json={"channel": "x"}).json()
    assert route["events"] == ["failed", "late", "missed", "stalled", "overdue", "lost"]
    assert hand_hub.client.delete(f"/api/v1/routes/{route['id']}").status_code == 204
    assert hand_hub.client.delete("/api/v1/channels/x").status_code == 204
    assert hand_hub.client.get("/api/v1/channels").json()["channels"] == []


@pytest.mark.parametrize(
    "url,shown",
    [
        ("json://127.0.0.1:8080/hook?token=x", "json://127.0.0.1:8080/…"),
        ("mailtos://ana:pw@mail.example.com?to=ops@example.com", "mailtos://mail.example.com/…"),
        ("ntfys://ntfy.sh/ana-pages", "ntfys://ntfy.sh/…"),
        ("json://[::1]:9000/hook", "json://[::1]:9000/…"),
        # Apprise puts tokens where a host goes for many services: those are hidden too.
        ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/12345", "tgram://…"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops", "slack://…"),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "discord://…"),
        ("ntfy://ana-pages", "ntfy://…"),
    ],
)
def test_channel_urls_are_shown_without_their_secrets(hand_hub: HandHub, url: str, shown: str):
    made = hand_hub.client.post("/api/v1/channels", json={"name": "somewhere", "url": url})
    assert made.status_code == 201, made.text
    assert made.json()["url"] == shown
    [listed] = hand_hub.client.get("/api/v1/channels").json()["channels"]
    assert listed["url"] == shown
