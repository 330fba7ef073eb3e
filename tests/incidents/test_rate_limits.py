"""Inbound alert endpoints are rate limited per integration, each answering in its own format."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.incidents.conftest import integration, setup_oncall
from tests.incidents.test_alertmanager_webhook import notification
from tests.incidents.test_pagerduty import event
from tests.monitoring.conftest import HandHub, Recorder, open_hand_hub
from thereyet.server.clock import FakeClock


@pytest.fixture
def limited(db_url: str, tmp_path: Path, clock: FakeClock, recorder: Recorder) -> Iterator[HandHub]:
    """An on-call hub whose integrations may send 3 alerts at once, then one every 10 s."""
    hubs = open_hand_hub(db_url, tmp_path, clock, alert_rate_per_minute=6, alert_burst=3)
    hand_hub = next(hubs)
    try:
        setup_oncall(hand_hub, recorder)
        yield hand_hub
    finally:
        hubs.close()


def incident_keys(hand_hub: HandHub) -> list[str]:
    return sorted(
        i["dedup_key"] for i in hand_hub.client.get("/api/v1/incidents").json()["incidents"]
    )


def test_pagerduty_answers_throttle_event_with_retry_after(limited: HandHub):
    key = integration(limited, "pagerduty")
    for n in range(3):
        answer = limited.client.post("/v2/enqueue", json=event(key, dedup_key=f"k{n}"))
        assert answer.status_code == 202, answer.text
    refused = limited.client.post("/v2/enqueue", json=event(key, dedup_key="k3"))
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "10"
    assert refused.json() == {
        "status": "throttle event",
        "message": "Requests for this service are arriving too quickly. Please retry later.",
    }
    assert incident_keys(limited) == ["k0", "k1", "k2"]  # nothing of the refused event
    limited.clock.advance(seconds=9)
    again = limited.client.post("/v2/enqueue", json=event(key, dedup_key="k3"))
    assert again.status_code == 429 and again.headers["retry-after"] == "1"
    limited.clock.advance(seconds=1)
    assert limited.client.post("/v2/enqueue", json=event(key, dedup_key="k3")).status_code == 202
    assert incident_keys(limited) == ["k0", "k1", "k2", "k3"]


def test_an_alertmanager_notification_over_the_limit_writes_none_of_its_alerts(limited: HandHub):
    url = f"/api/v1/alerts/{integration(limited, 'alertmanager')}/alertmanager"
    for fingerprint in ("a", "b", "c"):
        answer = limited.client.post(url, json=notification("firing", (fingerprint, "firing")))
        assert answer.status_code == 200, answer.text
    both = notification("firing", ("d", "firing"), ("a", "resolved"))
    refused = limited.client.post(url, json=both)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "10"
    assert "more than 6 alerts a minute" in refused.json()["error"]
    assert incident_keys(limited) == ["am:a", "am:b", "am:c"]
    statuses = {i["status"] for i in limited.client.get("/api/v1/incidents").json()["incidents"]}
    assert statuses == {"triggered"}  # the refused notification resolved nothing either
    limited.clock.advance(seconds=10)
    assert limited.client.post(url, json=both).status_code == 200
    assert incident_keys(limited) == ["am:a", "am:b", "am:c", "am:d"]


def test_each_generic_integration_has_its_own_bucket(limited: HandHub):
    first = integration(limited, "generic", "first")
    second = integration(limited, "generic", "second")

    def send(token: str, key: str) -> int:
        body = {"action": "trigger", "key": key, "summary": f"alert {key}"}
        return limited.client.post(f"/api/v1/alerts/{token}", json=body).status_code

    assert [send(first, f"f{n}") for n in range(4)] == [202, 202, 202, 429]
    refused = limited.client.post(
        f"/api/v1/alerts/{first}", json={"action": "resolve", "key": "f0"}
    )
    assert refused.status_code == 429 and refused.headers["retry-after"] == "10"
    assert "'first'" in refused.json()["error"]
    assert send(second, "s0") == 202  # another integration is not held back
    assert incident_keys(limited) == ["f0", "f1", "f2", "s0"]
    statuses = {i["status"] for i in limited.client.get("/api/v1/incidents").json()["incidents"]}
    assert statuses == {"triggered"}


def test_bad_requests_and_unknown_tokens_spend_nothing(limited: HandHub):
    token = integration(limited, "generic")
    for _ in range(5):
        bad = limited.client.post(f"/api/v1/alerts/{token}", json={"action": "trigger"})
        assert bad.status_code == 422 and bad.json()["field"] == "summary"
        assert limited.client.post("/v2/enqueue", json=event("0" * 32)).status_code == 400
    good = {"action": "trigger", "key": "k", "summary": "disk full"}
    assert limited.client.post(f"/api/v1/alerts/{token}", json=good).status_code == 202
