"""The edges of the on-call rules, pinned where mutants of them survived: where a
shift and an override begin and end (to the second), merged segments, the handover
read from them, working hours at their limits, definitions refused by field, and the
calendar feed's exact text."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from thereyet.server.domain.oncall import (
    MAX_SEGMENTS,
    Handover,
    OncallError,
    Override,
    Rotation,
    Segment,
    WorkingHours,
    handover,
    ical,
    on_call,
    parse_clock,
    segments,
    swap,
    zone,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
SECOND = timedelta(seconds=1)


def daily(*people: str, hours: int = 24) -> Rotation:
    return Rotation("ops", people or ("ana", "bo", "cy"), "UTC", date(2026, 3, 2), time(9), hours)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


# -- definitions -----------------------------------------------------------------------


def test_a_clock_time_is_hh_mm_and_a_bad_one_names_its_field():
    assert parse_clock("09:30", "handoff") == time(9, 30)
    assert parse_clock("0:05", "handoff") == time(0, 5)
    for bad in ("9", "09:30:00", "25:00", "ab:cd", ""):
        with pytest.raises(OncallError) as refused:
            parse_clock(bad, "work_start")
        assert (str(refused.value), refused.value.field) == (
            "work_start must be HH:MM",
            "work_start",
        )


def test_an_unknown_time_zone_names_the_field_it_came_from():
    assert zone("Europe/Paris") == ZoneInfo("Europe/Paris")
    for bad in ("Mars/Base", "", "../etc"):
        with pytest.raises(OncallError) as refused:
            zone(bad, "tz")
        assert refused.value.field == "tz"
        assert str(refused.value) == f"unknown time zone {bad!r}"
    with pytest.raises(OncallError) as refused:
        zone("Mars/Base")
    assert refused.value.field == "timezone"


def test_a_shift_is_at_least_an_hour():
    daily(hours=1).check()
    with pytest.raises(OncallError) as refused:
        daily(hours=0).check()
    assert (str(refused.value), refused.value.field) == (
        "shift_hours must be at least 1",
        "shift_hours",
    )
    with pytest.raises(OncallError, match=r"^a rotation needs at least one participant$"):
        Rotation("x", (), "UTC", date(2026, 3, 2), time(9), 24).check()


def test_working_hours_need_a_start_before_the_end():
    WorkingHours("UTC", frozenset({0, 6}), time(9), time(9, 1)).check()
    for begin, end in ((time(9), time(9)), (time(18), time(9))):
        with pytest.raises(OncallError) as refused:
            WorkingHours("UTC", frozenset({0}), begin, end).check()
        assert refused.value.field == "work_end"
        assert str(refused.value) == "work_start must be before work_end"
    with pytest.raises(OncallError) as refused:
        WorkingHours("UTC", frozenset({-1}), time(9), time(17)).check()
    assert refused.value.field == "work_days"
    assert str(refused.value) == "working days are 0 (Monday) to 6 (Sunday)"
    with pytest.raises(OncallError) as refused:
        WorkingHours("Nowhere/City", frozenset({0}), time(9), time(17)).check()
    assert refused.value.field == "timezone"


# -- shifts and overrides, to the second ----------------------------------------------------


def test_a_shift_starts_at_its_handoff_second_and_people_take_turns():
    rotation = daily()
    assert rotation.handoff_at(0) == T0 and rotation.handoff_at(4) == at(96)
    assert rotation.handoff_at(-1) == at(-24)
    assert rotation.shift_index(T0 - SECOND) == -1
    assert rotation.shift_index(T0) == 0
    assert rotation.shift_index(at(24) - SECOND) == 0
    assert rotation.shift_index(at(24)) == 1
    assert rotation.shift_index(at(24 * 7 + 1)) == 7
    assert [rotation.person_of(i) for i in range(5)] == ["ana", "bo", "cy", "ana", "bo"]
    assert on_call(rotation, [], T0 - SECOND) is None
    assert [on_call(rotation, [], at(h)) for h in (0, 23.9, 24, 48, 72)] == [
        "ana",
        "ana",
        "bo",
        "cy",
        "ana",
    ]


def test_the_shift_index_is_settled_on_the_real_time_line_across_dst():
    paris = ZoneInfo("Europe/Paris")
    # Daily at 02:30 Paris: on 2026-03-29 02:30 does not exist (clocks jump 02:00 -> 03:00).
    rotation = Rotation("n", ("a", "b"), "Europe/Paris", date(2026, 3, 25), time(2, 30), 24)
    for index in range(7):
        start = rotation.handoff_at(index)
        assert rotation.shift_index(start) == index
        assert rotation.shift_index(start - SECOND) == index - 1
    autumn = Rotation("n", ("a", "b"), "Europe/Paris", date(2026, 10, 23), time(2, 30), 24)
    for index in range(5):
        start = autumn.handoff_at(index)
        assert autumn.shift_index(start) == index
        assert autumn.shift_index(start - SECOND) == index - 1
    assert autumn.handoff_at(2).astimezone(paris).hour == 2
    # 2026-10-25 02:30 comes twice; the handoff is the first. 40 minutes later the clock
    # reads 02:10 again, before 02:30, yet the day's shift has begun.
    assert autumn.handoff_at(2) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    again = datetime(2026, 10, 25, 1, 10, tzinfo=UTC)
    assert again.astimezone(paris).strftime("%H:%M") == "02:10"
    assert autumn.shift_index(again) == 2
    assert on_call(autumn, [], again) == "a"


def test_an_override_covers_from_its_start_up_to_not_including_its_end():
    cover = Override("dee", at(1), at(2))
    assert not cover.covers(at(1) - SECOND)
    assert cover.covers(at(1)) and cover.covers(at(2) - SECOND)
    assert not cover.covers(at(2))
    rotation = daily()
    assert on_call(rotation, [cover], at(2)) == "ana"
    # An override before the rotation starts still says who is on call.
    early = Override("eve", at(-5), at(-4))
    assert on_call(rotation, [early], at(-5)) == "eve"


def test_the_override_that_starts_last_wins_whatever_the_order_given():
    long = Override("dee", at(0), at(10))
    short = Override("eve", at(2), at(3))
    for given in ([long, short], [short, long]):
        assert on_call(daily(), given, at(2.5)) == "eve"
        assert on_call(daily(), given, at(3)) == "dee"


# -- segments and the handover -------------------------------------------------------------


def test_segments_start_and_end_where_asked_and_merge_one_persons_time():
    rotation = daily("ana")  # one person: every shift is hers
    found = segments(rotation, [], at(12), at(60))
    assert found == [
        Segment("ana", at(12), at(24), 0),
        Segment("ana", at(24), at(48), 1),
        Segment("ana", at(48), at(60), 2),
    ]
    cover = Override("ana", at(30), at(40))
    found = segments(rotation, [cover], at(24), at(48))
    assert found == [Segment("ana", at(24), at(48), 1, override=True)]


def test_segments_before_the_rotation_starts_leave_that_time_out():
    found = segments(daily(), [], at(-30), at(30))
    assert found == [Segment("ana", at(0), at(24), 0), Segment("bo", at(24), at(30), 1)]


def test_segments_mark_only_overridden_time_and_ignore_overrides_outside():
    rotation = daily()
    outside = Override("zed", at(100), at(110))
    edge = Override("dee", at(6), at(24))
    found = segments(rotation, [outside, edge], at(0), at(30))
    assert found == [
        Segment("ana", at(0), at(6), 0),
        Segment("dee", at(6), at(24), 0, override=True),
        Segment("bo", at(24), at(30), 1),
    ]


def test_segments_stop_at_the_cut_limit():
    rotation = daily(hours=1)
    found = segments(rotation, [], T0, T0 + timedelta(hours=MAX_SEGMENTS * 2))
    assert len(found) == MAX_SEGMENTS - 1


def test_the_handover_says_who_is_on_until_when_and_who_is_next():
    rotation = daily("ana", "ana", "bo")
    found = segments(rotation, [], at(0), at(96))
    assert handover(found, at(1)) == Handover("ana", at(48), "bo")
    assert handover(found, at(50)) == Handover("bo", at(72), "ana")
    assert handover(found, at(48)) == Handover("bo", at(72), "ana")  # the next one's start
    assert handover(found, at(80)) == Handover("ana", None, None)  # past what was looked at
    gap = [Segment("ana", at(0), at(1), 0), Segment("bo", at(2), at(3), 1)]
    assert handover(gap, at(0.5)) == Handover("ana", at(1), None)
    assert handover(gap, at(1.5)) == Handover(None, at(2), "bo")
    assert handover(gap, at(5)) == Handover(None, None, None)
    assert handover([], at(0)) == Handover(None, None, None)


def test_a_swap_before_the_rotation_starts_is_refused_by_field():
    for first, second in ((at(-1), at(30)), (at(30), at(-1))):
        with pytest.raises(OncallError) as refused:
            swap(daily(), first, second)
        assert refused.value.field == "first"
        assert str(refused.value) == "both shifts must be after the rotation's start"
    with pytest.raises(OncallError, match=r"^the two times fall in the same shift$"):
        swap(daily(), at(1), at(2))
    mine, theirs = swap(daily(), at(0), at(24))
    assert mine == Override("bo", at(0), at(24))
    assert theirs == Override("ana", at(24), at(48))


# -- working hours ------------------------------------------------------------------------


def test_working_hours_include_their_first_minute_and_not_their_end():
    hours = WorkingHours("UTC", frozenset({0}), time(9), time(17))
    monday = datetime(2026, 3, 2, tzinfo=UTC)
    assert not hours.inside(monday + timedelta(hours=9) - SECOND)
    assert hours.inside(monday + timedelta(hours=9))
    assert hours.inside(monday + timedelta(hours=17) - SECOND)
    assert not hours.inside(monday + timedelta(hours=17))
    assert not hours.inside(monday + timedelta(days=1, hours=10))  # Tuesday


# -- the calendar feed ----------------------------------------------------------------------


def test_the_calendar_feed_is_exact_rfc_5545_text_with_escaped_values():
    shifts = [("ops; day,1", Segment("ana\\b", at(0), at(24), 0))]
    text = ical("on call: a,b;c\nd", shifts, T0)
    assert text == (
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        "PRODID:-//thereyet//on-call//EN\r\n"
        "X-WR-CALNAME:on call: a\\,b\\;c\\nd\r\n"
        "BEGIN:VEVENT\r\n"
        "UID:ops; day,1-ana\\b-20260302T090000Z@thereyet\r\n"
        "DTSTAMP:20260302T090000Z\r\n"
        "DTSTART:20260302T090000Z\r\n"
        "DTEND:20260303T090000Z\r\n"
        "SUMMARY:On call: ana\\\\b (ops\\; day\\,1)\r\n"
        "END:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    empty = ical("x", [], T0 + timedelta(hours=1, minutes=2, seconds=3))
    assert empty.endswith("X-WR-CALNAME:x\r\nEND:VCALENDAR\r\n")
