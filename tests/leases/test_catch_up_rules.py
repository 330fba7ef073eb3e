"""Which occurrences a routine starts now: every one due, in order; what a hub that
was down missed is decided by the job's catch-up policy (pure rules, times by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from thereyet.server.domain.catch_up import LATE_TICK_SECONDS, CatchUp, CatchUpError, plan
from thereyet.server.domain.schedules import parse_schedule

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EVERY_SECOND = parse_schedule("every 1s")
EVERY_MINUTE = parse_schedule("every 1m")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_every_occurrence_due_by_the_look_ahead_horizon_is_started_none_jumped():
    # The old rule started only the latest occurrence inside the 3 s look-ahead,
    # dropping the two before it before they were even due.
    result = plan(EVERY_SECOND, at(1), at(0.5), at(3.5), CatchUp(), 500)
    assert result.start == (at(1), at(2), at(3))
    assert result.skipped == 0 and result.next_due == at(4)


def test_a_late_tick_starts_everything_due_whatever_the_policy():
    late = at(1 + LATE_TICK_SECONDS)  # the oldest is exactly LATE_TICK_SECONDS late
    result = plan(EVERY_SECOND, at(1), late, late, CatchUp("none"), 500)
    assert result.start == tuple(at(s) for s in range(1, 12))
    assert result.skipped == 0


def test_after_a_gap_latest_starts_only_the_most_recent_and_reports_the_rest_skipped():
    now = at(5 * 60 + 10)  # down from 9:00:30 to 9:05:10
    result = plan(EVERY_MINUTE, at(60), now, now + timedelta(seconds=3), CatchUp(), 500)
    assert result.start == (at(300),)
    assert (result.skipped, result.first_skipped, result.last_skipped) == (4, at(60), at(240))
    assert result.next_due == at(360)


def test_after_a_gap_all_starts_the_most_recent_limit_oldest_first():
    now = at(5 * 60 + 10)
    result = plan(EVERY_MINUTE, at(60), now, now, CatchUp("all", limit=3), 500)
    assert result.start == (at(180), at(240), at(300))
    assert (result.skipped, result.first_skipped, result.last_skipped) == (2, at(60), at(120))


def test_after_a_gap_none_starts_nothing_missed_but_what_is_still_ahead():
    now = at(5 * 60 + 58)
    result = plan(EVERY_MINUTE, at(60), now, now + timedelta(seconds=3), CatchUp("none"), 500)
    assert result.start == (at(360),)  # 9:06 is not missed: it is not due yet
    assert (result.skipped, result.first_skipped, result.last_skipped) == (5, at(60), at(300))


def test_the_per_tick_cap_leaves_the_rest_for_the_next_tick_not_skipped():
    result = plan(EVERY_SECOND, at(1), at(5), at(5), CatchUp(), 2)
    assert result.start == (at(1), at(2)) and result.next_due == at(3)
    assert result.skipped == 0


def test_a_hub_down_for_weeks_counts_its_missed_occurrences_without_walking_them_all():
    now = at(30 * 86400)
    result = plan(EVERY_SECOND, at(1), now, now, CatchUp(), 500)
    assert result.start == (now,)
    assert result.skipped >= 100_000  # a lower bound past the scan limit
    assert result.next_due == now + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("policy", "limit", "field"),
    [("sometimes", 10, "catch_up"), ("all", 0, "catch_up_limit"), ("all", 1001, "catch_up_limit")],
)
def test_a_bad_policy_names_its_field(policy: str, limit: int, field: str):
    with pytest.raises(CatchUpError) as caught:
        CatchUp(policy, limit).check()
    assert caught.value.field == field


def test_a_hub_that_ran_all_along_but_fell_behind_starts_everything_however_late():
    now = at(5 * 60 + 10)  # the scheduler is five minutes behind, its node up since 8:00
    result = plan(EVERY_MINUTE, at(60), now, now, CatchUp("none"), 500, up_since=at(-3600))
    assert result.start == tuple(at(60 * m) for m in range(1, 6))
    assert result.skipped == 0


def test_occurrences_due_before_the_running_nodes_started_are_the_missed_ones():
    up = at(5 * 60)  # the only node started at 9:05, a minute after the 9:04 occurrence
    result = plan(EVERY_MINUTE, at(60), at(5 * 60 + 2), at(5 * 60 + 2), CatchUp(), 500, up)
    assert result.start == (at(300),) and result.skipped == 4
