"""Alertmanager's webhook and PagerDuty senders pointed at one service: one group of
alerts told twice is not paged twice, whichever sender arrives first."""

from __future__ import annotations

import hashlib

from tests.incidents.conftest import integration, paths
from tests.incidents.test_alertmanager_webhook import notification
from tests.incidents.test_pagerduty import event
from tests.monitoring.conftest import HandHub, Recorder

GROUP_KEY = '{}:{alertname="DiskFull"}'
GROUP_HASH = hashlib.sha256(GROUP_KEY.encode()).hexdigest()  # what the PagerDuty sender keys by


def test_the_pagerduty_sender_after_the_webhook_opens_nothing_new(
    oncall: HandHub, recorder: Recorder
):
    hook = integration(oncall, "alertmanager")
    pd = integration(oncall, "pagerduty", "am-pd")
    firing = notification("firing", ("aaa", "firing"), ("bbb", "firing"))
    assert oncall.client.post(f"/api/v1/alerts/{hook}/alertmanager", json=firing).status_code == 200
    told = oncall.client.post("/v2/enqueue", json=event(pd, dedup_key=GROUP_HASH))
    assert told.status_code == 202, told.text
    found = oncall.client.get("/api/v1/incidents").json()["incidents"]
    assert sorted(i["dedup_key"] for i in found) == ["am:aaa", "am:bbb"]  # N alerts, N incidents
    oncall.dispatch()
    assert paths(recorder) == ["/ana/push", "/ana/push"]
    first = min(i["id"] for i in found)
    timeline = oncall.client.get(f"/api/v1/incidents/{first}").json()["timeline"]
    assert [e["kind"] for e in timeline if e["kind"] == "deduplicated"] == ["deduplicated"]


def test_the_webhook_after_the_pagerduty_sender_opens_nothing_new(
    oncall: HandHub, recorder: Recorder
):
    hook = integration(oncall, "alertmanager")
    pd = integration(oncall, "pagerduty", "am-pd")
    assert (
        oncall.client.post("/v2/enqueue", json=event(pd, dedup_key=GROUP_HASH)).status_code == 202
    )
    firing = notification("firing", ("aaa", "firing"), ("bbb", "firing"))
    assert oncall.client.post(f"/api/v1/alerts/{hook}/alertmanager", json=firing).status_code == 200
    [incident] = oncall.client.get("/api/v1/incidents").json()["incidents"]
    assert incident["origin"] == "pagerduty"
    oncall.dispatch()
    assert paths(recorder) == ["/ana/push"]


def test_other_pagerduty_events_are_not_folded(oncall: HandHub, recorder: Recorder):
    hook = integration(oncall, "alertmanager")
    pd = integration(oncall, "pagerduty", "real-pd")
    firing = notification("firing", ("aaa", "firing"))
    oncall.client.post(f"/api/v1/alerts/{hook}/alertmanager", json=firing)
    oncall.client.post("/v2/enqueue", json=event(pd, dedup_key="disk-db-1"))
    found = oncall.client.get("/api/v1/incidents").json()["incidents"]
    assert sorted(i["dedup_key"] for i in found) == ["am:aaa", "disk-db-1"]
