"""The smoothed rate the hub shows beside the ETA, and the job's typical duration."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from thereyet.server.clock import FakeClock
from thereyet.server.domain.eta import (
    RateSample,
    typical_duration,
    update_rate,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def steady_progress(clock: FakeClock, per_second: float, seconds: int) -> RateSample:
    """Report `per_second` units every second for `seconds` seconds, from 0 at start."""
    sample = update_rate(None, 0.0, clock.now())
    for step in range(1, seconds + 1):
        sample = update_rate(sample, per_second * step, clock.advance(1))
    return sample


# --- update_rate --------------------------------------------------------------


def test_first_sample_has_no_rate() -> None:
    sample = update_rate(None, 40.0, T0)
    assert sample == RateSample(done=40.0, at=T0, rate=None)


def test_second_sample_gives_the_instant_rate() -> None:
    first = update_rate(None, 0.0, T0)
    assert update_rate(first, 50.0, at(5)).rate == pytest.approx(10.0)


def test_smoothing_moves_toward_a_new_speed_by_one_time_constant() -> None:
    clock = FakeClock(T0)
    sample = steady_progress(clock, 10.0, 10)
    for _ in range(30):  # 30 s at 20 units/s: one time constant (tau=30)
        sample = update_rate(sample, sample.done + 20.0, clock.advance(1))
    assert sample.rate == pytest.approx(10.0 + 10.0 * (1 - math.exp(-1)), rel=1e-9)


def test_smoothing_depends_on_time_not_on_how_often_samples_come() -> None:
    seeded = update_rate(update_rate(None, 0.0, at(0)), 100.0, at(10))  # 10/s
    often = seeded
    for step in range(1, 31):
        often = update_rate(often, 100.0 + 20.0 * step, at(10 + step))
    rarely = update_rate(seeded, 100.0 + 20.0 * 30, at(40))
    assert often.rate == pytest.approx(rarely.rate, rel=1e-9)


def test_same_timestamp_keeps_rate_and_takes_larger_done() -> None:
    sample = update_rate(update_rate(None, 0.0, at(0)), 100.0, at(10))
    again = update_rate(sample, 120.0, at(10))
    assert again == RateSample(done=120.0, at=at(10), rate=10.0)


def test_late_older_sample_is_ignored_not_taken_for_a_reset() -> None:
    sample = update_rate(update_rate(None, 0.0, at(0)), 100.0, at(10))
    late = update_rate(sample, 50.0, at(5))
    assert late == sample


def test_progress_reset_restarts_smoothing() -> None:
    clock = FakeClock(T0)
    sample = steady_progress(clock, 10.0, 20)
    reset = update_rate(sample, 3.0, clock.advance(1))  # a new phase starts from zero
    assert reset == RateSample(done=3.0, at=clock.now(), rate=None)
    resumed = update_rate(reset, 8.0, clock.advance(1))
    assert resumed.rate == pytest.approx(5.0)


def test_rate_decays_toward_zero_without_going_negative_when_progress_stops() -> None:
    clock = FakeClock(T0)
    sample = steady_progress(clock, 10.0, 10)
    for _ in range(600):
        sample = update_rate(sample, sample.done, clock.advance(1))
    assert sample.rate is not None
    assert 0.0 <= sample.rate < 1e-6


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_progress_is_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        update_rate(None, bad, T0)


# --- typical_duration ---------------------------------------------------------


def test_typical_duration_is_median_of_the_last_ten_runs() -> None:
    assert typical_duration([100.0] * 10 + [10_000.0] * 20) == 100.0
    assert typical_duration([30.0, 10.0, 20.0, 40.0]) == 25.0


def test_typical_duration_ignores_nonsense_and_is_none_without_history() -> None:
    assert typical_duration([]) is None
    assert typical_duration([math.nan, -1.0, 0.0]) is None
    assert typical_duration([math.inf, 50.0]) == 50.0
