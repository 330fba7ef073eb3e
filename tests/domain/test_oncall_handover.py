"""Reading a rotation's segments as a handover: who now, until when, who next."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from thereyet.server.domain.oncall import Override, Rotation, Segment, handover, segments

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def daily(*people: str) -> Rotation:
    return Rotation("daily", people, "UTC", date(2026, 3, 2), time(9, 0), 24)


def test_the_handover_is_at_the_end_of_the_shift_to_the_next_person():
    rotation = daily("ana", "bo")
    now = START + timedelta(hours=3)
    found = handover(segments(rotation, [], now, now + timedelta(days=3)), now)
    assert (found.person, found.until, found.next_person) == (
        "ana",
        START + timedelta(days=1),
        "bo",
    )


def test_a_person_on_call_for_two_shifts_in_a_row_hands_over_after_both():
    rotation = daily("ana", "bo", "cy")
    # bo covers cy's shift of 4 March too, so bo is on call from 3 to 5 March at 09:00.
    cover = Override("bo", START + timedelta(days=2), START + timedelta(days=3))
    now = START + timedelta(days=1, hours=1)
    found = handover(segments(rotation, [cover], now, now + timedelta(days=5)), now)
    assert (found.person, found.until, found.next_person) == (
        "bo",
        START + timedelta(days=3),
        "ana",
    )


def test_an_override_that_ends_mid_shift_hands_back_to_the_shift_person():
    rotation = daily("ana", "bo")
    cover = Override("cy", START, START + timedelta(hours=5))
    now = START + timedelta(hours=1)
    found = handover(segments(rotation, [cover], now, now + timedelta(days=2)), now)
    assert (found.person, found.until, found.next_person) == (
        "cy",
        START + timedelta(hours=5),
        "ana",
    )


def test_before_the_rotation_starts_nobody_is_on_call_until_its_first_shift():
    rotation = daily("ana", "bo")
    now = START - timedelta(hours=2)
    found = handover(segments(rotation, [], now, now + timedelta(days=2)), now)
    assert (found.person, found.until, found.next_person) == (None, START, "ana")


def test_one_person_on_call_past_the_window_has_no_handover_in_sight():
    rotation = daily("ana")
    now = START + timedelta(hours=1)
    found = handover(segments(rotation, [], now, now + timedelta(days=3)), now)
    assert (found.person, found.until, found.next_person) == ("ana", None, None)


def test_a_gap_after_the_shift_has_an_end_but_nobody_next():
    shifts = [Segment("ana", START, START + timedelta(hours=4), 0)]
    later = [Segment("bo", START + timedelta(hours=6), START + timedelta(hours=9), 1)]
    found = handover([*shifts, *later], START + timedelta(hours=1))
    assert (found.person, found.until, found.next_person) == (
        "ana",
        START + timedelta(hours=4),
        None,
    )
