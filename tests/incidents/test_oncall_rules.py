"""Rotations, overrides, swaps and working hours, with fixed times (no clock, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from thereyet.server.domain.oncall import (
    OncallError,
    Override,
    Rotation,
    WorkingHours,
    ical,
    on_call,
    segments,
    swap,
)

PARIS = ZoneInfo("Europe/Paris")


def weekly(start: date = date(2026, 3, 16)) -> Rotation:
    # Mondays 09:00 Paris time; DST starts in Europe on Sunday 2026-03-29.
    return Rotation("ops", ("ana", "bo", "cy"), "Europe/Paris", start, time(9, 0), 168)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def test_a_weekly_handoff_stays_at_nine_local_across_the_spring_dst_change():
    rotation = weekly()
    before = rotation.handoff_at(1)  # Monday 23 March, UTC+1
    after = rotation.handoff_at(2)  # Monday 30 March, UTC+2
    assert before == paris(2026, 3, 23, 9, 0)
    assert after == paris(2026, 3, 30, 9, 0)
    assert before.astimezone(UTC).hour == 8
    assert after.astimezone(UTC).hour == 7
    # The week that holds the change is one hour shorter in real time.
    assert after - before == timedelta(hours=167)


def test_who_is_on_call_around_a_dst_handoff():
    rotation = weekly()
    handoff = paris(2026, 3, 30, 9, 0).astimezone(UTC)
    assert on_call(rotation, [], handoff - timedelta(seconds=1)) == "bo"
    assert on_call(rotation, [], handoff) == "cy"
    # 08:30 UTC on the 30th is 10:30 Paris: already cy, though it was 09:30 in winter time.
    assert on_call(rotation, [], datetime(2026, 3, 30, 7, 30, tzinfo=UTC)) == "cy"
    assert on_call(rotation, [], datetime(2026, 3, 30, 6, 59, tzinfo=UTC)) == "bo"


def test_autumn_dst_change_keeps_the_handoff_at_nine_local():
    rotation = Rotation("ops", ("ana", "bo"), "Europe/Paris", date(2026, 10, 19), time(9), 168)
    assert rotation.handoff_at(1) == paris(2026, 10, 26, 9, 0)  # after the 25 Oct change
    assert rotation.handoff_at(1) - rotation.handoff_at(0) == timedelta(hours=169)
    assert on_call(rotation, [], datetime(2026, 10, 26, 7, 59, tzinfo=UTC)) == "ana"
    assert on_call(rotation, [], datetime(2026, 10, 26, 8, 0, tzinfo=UTC)) == "bo"


def test_nobody_is_on_call_before_the_rotation_starts():
    assert on_call(weekly(), [], paris(2026, 3, 16, 8, 59)) is None


def test_an_override_covers_its_range_and_nothing_more():
    rotation = weekly()
    cover = Override("dee", paris(2026, 3, 17, 18, 0), paris(2026, 3, 18, 8, 0))
    assert on_call(rotation, [cover], paris(2026, 3, 17, 17, 59)) == "ana"
    assert on_call(rotation, [cover], paris(2026, 3, 17, 18, 0)) == "dee"
    assert on_call(rotation, [cover], paris(2026, 3, 18, 8, 0)) == "ana"


def test_the_latest_starting_override_wins_where_two_overlap():
    rotation = weekly()
    long = Override("dee", paris(2026, 3, 17, 0, 0), paris(2026, 3, 19, 0, 0))
    short = Override("eve", paris(2026, 3, 18, 0, 0), paris(2026, 3, 18, 12, 0))
    assert on_call(rotation, [long, short], paris(2026, 3, 18, 6, 0)) == "eve"
    assert on_call(rotation, [long, short], paris(2026, 3, 18, 13, 0)) == "dee"


def test_segments_cut_shifts_at_handoffs_and_overrides():
    rotation = weekly()
    cover = Override("dee", paris(2026, 3, 24, 0, 0), paris(2026, 3, 25, 0, 0))
    found = segments(rotation, [cover], paris(2026, 3, 16, 9), paris(2026, 3, 30, 9))
    assert [(s.person, s.starts_at.astimezone(PARIS).day) for s in found] == [
        ("ana", 16),
        ("bo", 23),
        ("dee", 24),
        ("bo", 25),
    ]
    assert found[2].override


def test_a_swap_exchanges_two_shifts():
    rotation = weekly()
    first, second = swap(rotation, paris(2026, 3, 17, 12), paris(2026, 3, 31, 12))
    assert (first.person, first.starts_at, first.ends_at) == (
        "cy",
        paris(2026, 3, 16, 9),
        paris(2026, 3, 23, 9),
    )
    assert (second.person, second.starts_at) == ("ana", paris(2026, 3, 30, 9))
    assert on_call(rotation, [first, second], paris(2026, 3, 18, 3)) == "cy"
    assert on_call(rotation, [first, second], paris(2026, 4, 1, 3)) == "ana"


def test_a_swap_within_one_shift_is_refused():
    with pytest.raises(OncallError) as caught:
        swap(weekly(), paris(2026, 3, 17, 12), paris(2026, 3, 18, 12))
    assert caught.value.field == "second"


def test_daily_twelve_hour_shifts_across_dst_keep_wall_clock_times():
    rotation = Rotation("nights", ("a", "b"), "America/New_York", date(2026, 3, 7), time(8), 12)
    # US DST starts Sunday 2026-03-08 at 02:00.
    new_york = ZoneInfo("America/New_York")
    assert rotation.handoff_at(2).astimezone(new_york).hour == 8
    assert rotation.handoff_at(3).astimezone(new_york).hour == 20
    assert on_call(rotation, [], datetime(2026, 3, 8, 12, 30, tzinfo=UTC)) == "a"  # 08:30 EDT
    assert on_call(rotation, [], datetime(2026, 3, 8, 11, 59, tzinfo=UTC)) == "b"  # 07:59 EDT
    assert on_call(rotation, [], datetime(2026, 3, 8, 12, 0, tzinfo=UTC)) == "a"  # 08:00 EDT


def test_out_of_hours_is_judged_in_the_persons_own_time_zone():
    tokyo = WorkingHours("Asia/Tokyo", frozenset(range(5)), time(9), time(18))
    new_york = WorkingHours("America/New_York", frozenset(range(5)), time(9), time(18))
    at = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # Tuesday 11:00 Tokyo, Monday 21:00 New York
    assert tokyo.inside(at)
    assert not new_york.inside(at)
    saturday = datetime(2026, 3, 7, 3, 0, tzinfo=UTC)  # Saturday noon in Tokyo
    assert not tokyo.inside(saturday)


def test_bad_definitions_name_their_field():
    with pytest.raises(OncallError) as caught:
        Rotation("x", (), "UTC", date(2026, 1, 1), time(9), 24).check()
    assert caught.value.field == "participants"
    with pytest.raises(OncallError) as caught:
        Rotation("x", ("a",), "Mars/Base", date(2026, 1, 1), time(9), 24).check()
    assert caught.value.field == "timezone"
    with pytest.raises(OncallError) as caught:
        WorkingHours("UTC", frozenset({7}), time(9), time(17)).check()
    assert caught.value.field == "work_days"


def test_the_ical_feed_has_one_event_per_segment():
    rotation = weekly()
    found = segments(rotation, [], paris(2026, 3, 16, 9), paris(2026, 3, 30, 9))
    text = ical("rotation ops", [("ops", s) for s in found], paris(2026, 3, 16, 9))
    assert text.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20260316T080000Z" in text
    assert "SUMMARY:On call: ana (ops)" in text
    assert text.endswith("END:VCALENDAR\r\n")
