"""`PUT /api/v1/oncall/public-url` is kept, and every link the hub hands out starts with it:
one-click acknowledge links in pages, and calendar feed addresses."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.incidents.test_escalation_flow import open_incident
from tests.monitoring.conftest import HandHub, Recorder

PUBLIC = "https://ops.example.com/thereyet"


def test_the_public_url_starts_page_links_and_feed_addresses(oncall: HandHub, recorder: Recorder):
    saved = oncall.client.put("/api/v1/oncall/public-url", json={"public_url": PUBLIC + "/"})
    assert saved.status_code == 200, saved.text

    feed = oncall.client.get("/api/v1/oncall/rotations/primary/feed").json()["url"]
    assert feed.startswith(f"{PUBLIC}/ical/rotations/primary.ics?sig=")
    parts = urlsplit(feed)  # the signed address still opens the feed
    calendar = oncall.client.get(
        parts.path.removeprefix("/thereyet") + "?" + parts.query, headers={"Authorization": ""}
    )
    assert calendar.status_code == 200

    incident = open_incident(oncall)
    oncall.dispatch()
    message = recorder.requests[0]["json"]["message"]
    assert f"Acknowledge: {PUBLIC}/incidents/{incident['id']}/acknowledge?" in message
    assert "127.0.0.1:8480" not in message


def test_a_public_url_that_is_not_http_is_refused_and_the_old_one_kept(
    oncall: HandHub, recorder: Recorder
):
    oncall.client.put("/api/v1/oncall/public-url", json={"public_url": PUBLIC})
    refused = oncall.client.put("/api/v1/oncall/public-url", json={"public_url": "ftp://x.example"})
    assert refused.status_code == 422 and "public_url" in refused.text
    feed = oncall.client.get("/api/v1/oncall/rotations/primary/feed").json()["url"]
    assert feed.startswith(PUBLIC + "/ical/")
