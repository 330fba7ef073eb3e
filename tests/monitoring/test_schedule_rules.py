"""Cron in several time zones across DST changes, and fixed intervals (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from thereyet.server.domain.schedules import (
    Interval,
    ScheduleError,
    occurrences,
    parse_duration,
    parse_schedule,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_daily_cron_follows_local_time_across_both_dst_changes_in_berlin():
    nightly = parse_schedule("30 3 * * *", "Europe/Berlin")
    fired = occurrences(nightly, utc(2026, 3, 27, 12), utc(2026, 3, 30, 12))
    # 03:30 CET is 02:30 UTC; after clocks go forward on 29 March, 03:30 CEST is 01:30 UTC.
    assert fired == [utc(2026, 3, 28, 2, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 1, 30)]
    fired = occurrences(nightly, utc(2026, 10, 23, 12), utc(2026, 10, 26, 12))
    assert fired == [utc(2026, 10, 24, 1, 30), utc(2026, 10, 25, 2, 30), utc(2026, 10, 26, 2, 30)]


def test_a_time_skipped_by_spring_forward_fires_once_at_the_next_valid_minute():
    # 02:30 does not exist in New York on 8 March 2026: cron runs it at 03:00 EDT.
    job = parse_schedule("30 2 * * *", "America/New_York")
    fired = occurrences(job, utc(2026, 3, 7, 12), utc(2026, 3, 9, 12))
    assert fired == [utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 30)]


def test_a_fixed_time_repeated_by_fall_back_fires_once():
    job = parse_schedule("30 1 * * *", "America/New_York")
    fired = occurrences(job, utc(2026, 10, 31, 12), utc(2026, 11, 2, 12))
    assert fired == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_a_wildcard_hour_fires_in_both_passes_of_the_repeated_hour():
    job = parse_schedule("*/30 * * * *", "Europe/London")
    fired = occurrences(job, utc(2026, 10, 25, 0, 10), utc(2026, 10, 25, 2, 0))
    assert fired == [
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 1, 0),
        utc(2026, 10, 25, 1, 30),
        utc(2026, 10, 25, 2, 0),
    ]


def test_a_southern_hemisphere_zone_and_a_half_hour_offset_zone():
    sydney = parse_schedule("0 9 * * 1", "Australia/Sydney")  # DST ends 5 April 2026
    assert occurrences(sydney, utc(2026, 3, 29), utc(2026, 4, 14)) == [
        utc(2026, 3, 29, 22, 0),
        utc(2026, 4, 5, 23, 0),
        utc(2026, 4, 12, 23, 0),
    ]
    kolkata = parse_schedule("0 0 * * *", "Asia/Kolkata")
    assert kolkata.next_after(utc(2026, 1, 1)) == utc(2026, 1, 1, 18, 30)


def test_an_interval_fires_at_multiples_of_its_period_whatever_the_zone():
    every = parse_schedule("every 10m", "Europe/Berlin")
    assert every == Interval(600.0)
    assert every.next_after(utc(2026, 3, 29, 0, 55, 1)) == utc(2026, 3, 29, 1, 0)
    assert every.next_after(utc(2026, 3, 29, 1, 0)) == utc(2026, 3, 29, 1, 10)
    assert parse_schedule("every 90s").next_after(utc(2026, 1, 1, 0, 0, 1)) == utc(
        2026, 1, 1, 0, 1, 30
    )
    assert parse_schedule("every 1h30m").text == "every 1h30m"


@pytest.mark.parametrize(
    ("text", "zone", "reason"),
    [
        ("61 * * * *", None, "Bad minute"),
        ("* * * *", None, "five fields"),
        ("every 0s", None, "between 1s"),
        ("every ten minutes", None, "not a duration"),
        ("0 3 * * *", "Mars/Olympus", "unknown time zone"),
        ("0 0 30 2 *", None, "not a valid cron line"),
    ],
)
def test_bad_schedules_say_why(text, zone, reason):
    with pytest.raises(ScheduleError, match=reason):
        parse_schedule(text, zone)


def test_durations_read_like_people_write_them():
    assert [parse_duration(t) for t in ("90", "90s", "10m", "1h30m", "2d", "1w")] == [
        90,
        90,
        600,
        5400,
        172800,
        604800,
    ]
