"""Calendar feeds read by a real iCalendar parser: a shift keeps its UID from one
fetch to the next, and the window is a query parameter."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import icalendar

from tests.incidents.conftest import HandHub, Recorder


def fetch(hand_hub: HandHub, **window: int) -> dict[str, tuple[datetime, datetime, str]]:
    """UID -> (start, end, summary) of each event in the rotation's feed."""
    url = urlsplit(hand_hub.client.get("/api/v1/oncall/rotations/primary/feed").json()["url"])
    query = "&".join([url.query, *(f"{k}={v}" for k, v in window.items())])
    response = hand_hub.client.get(f"{url.path}?{query}", headers={"Authorization": ""})
    assert response.status_code == 200, response.text
    calendar = icalendar.Calendar.from_ical(response.text)
    return {
        str(e["UID"]): (e.decoded("DTSTART"), e.decoded("DTEND"), str(e["SUMMARY"]))
        for e in calendar.walk("VEVENT")
    }


def test_a_shift_keeps_its_uid_and_its_whole_time_from_fetch_to_fetch(
    oncall: HandHub, recorder: Recorder
):
    oncall.clock.set(datetime(2026, 3, 25, 15, 30, tzinfo=UTC))
    first = fetch(oncall)
    oncall.clock.set(datetime(2026, 3, 26, 8, 0, tzinfo=UTC))  # a calendar app refreshes
    second = fetch(oncall)
    assert set(first) == set(second)
    assert first == second
    # The first shift is whole: it began before the window (7 days back), on a Monday 09:00.
    earliest = min(start for start, _end, _summary in first.values())
    assert earliest == datetime(2026, 3, 16, 8, 0, tzinfo=UTC)  # 09:00 Paris (UTC+1)


def test_the_window_is_a_query_parameter(oncall: HandHub, recorder: Recorder):
    oncall.clock.set(datetime(2026, 3, 25, 15, 30, tzinfo=UTC))  # Wednesday, bo's week
    default = fetch(oncall)
    assert len(default) == 15  # the week before, this week and 13 more
    two_weeks = fetch(oncall, past_days=0, days=14)
    assert sorted(v[2] for v in two_weeks.values()) == [
        "On call: ana (primary)",  # from Monday 30 March
        "On call: bo (primary)",  # this week
        "On call: bo (primary)",  # from Monday 6 April, inside the 14 days
    ]
    assert set(two_weeks) <= set(default)  # the same shifts, the same UIDs
    url = urlsplit(oncall.client.get("/api/v1/oncall/rotations/primary/feed").json()["url"])
    too_long = oncall.client.get(f"{url.path}?{url.query}&days=400", headers={"Authorization": ""})
    assert too_long.status_code == 422 and too_long.json()["field"] == "days"
