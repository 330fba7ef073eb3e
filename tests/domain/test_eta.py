"""ETA rules: smoothing, stalls, history and the blend between them, with fixed times."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from thereyet.server.clock import FakeClock
from thereyet.server.domain.eta import (
    Eta,
    RateSample,
    estimate_eta,
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


# --- estimate_eta: rate ---------------------------------------------------------


def test_eta_says_not_enough_data_before_second_sample() -> None:
    sample = update_rate(None, 5.0, T0)
    eta = estimate_eta(
        done=sample.done, total=1000, rate=sample.rate, started_at=T0, progress_at=T0, now=T0
    )
    assert eta == Eta(seconds=None, basis="none", reason="not enough data yet")
    assert eta.text == "not enough data yet"
    assert eta.finish_at(T0) is None


def test_steady_rate_gives_remaining_work_over_rate() -> None:
    clock = FakeClock(T0)
    sample = steady_progress(clock, 10.0, 10)  # 100 of 1000 after 10 s
    eta = estimate_eta(
        done=sample.done,
        total=1000,
        rate=sample.rate,
        started_at=T0,
        progress_at=sample.at,
        now=clock.now(),
    )
    assert eta.basis == "rate"
    assert eta.seconds == pytest.approx(90.0, abs=0.5)
    assert eta.text == "about 1m30s left"
    assert eta.finish_at(clock.now()) == clock.now() + timedelta(seconds=90)


def test_eta_counts_down_between_progress_samples() -> None:
    eta = estimate_eta(
        done=100, total=1000, rate=10.0, started_at=at(0), progress_at=at(10), now=at(15)
    )
    assert eta.seconds == pytest.approx(85.0)
    assert eta.reason is None


def test_stalled_run_eta_grows() -> None:
    def eta_after(quiet: float) -> Eta:
        return estimate_eta(
            done=500,
            total=1000,
            rate=10.0,
            started_at=at(0),
            progress_at=at(50),
            now=at(50 + quiet),
        )

    fresh, quiet_1m, quiet_5m = eta_after(0), eta_after(60), eta_after(300)
    assert fresh.seconds == pytest.approx(50.0)
    assert fresh.seconds is not None
    assert quiet_1m.seconds is not None and quiet_5m.seconds is not None
    # 45 s without progress beyond the grace, counted against 50 s of work.
    assert quiet_1m.seconds == pytest.approx(50.0 * (1 + 45 / 50) - 15)
    assert fresh.seconds < quiet_1m.seconds < quiet_5m.seconds
    assert quiet_5m.reason == "no progress for 5m"
    assert quiet_5m.text.endswith("left (no progress for 5m)")


def test_long_run_shrugs_off_a_short_silence() -> None:
    hour = 3600.0
    eta = estimate_eta(
        done=250,
        total=1000,
        rate=250 / hour,
        started_at=at(0),
        progress_at=at(hour),
        now=at(hour + 75),
    )
    # 3 h left; 60 s of silence beyond grace against 1 h of work adds 3 min.
    assert eta.seconds == pytest.approx(3 * hour * (1 + 60 / hour) - 15)


def test_tiny_early_progress_is_not_trusted() -> None:
    early = estimate_eta(
        done=2, total=1000, rate=1.0, started_at=at(0), progress_at=at(2), now=at(2)
    )
    assert early.basis == "none"
    later = estimate_eta(
        done=5, total=1000, rate=0.4, started_at=at(0), progress_at=at(12), now=at(12)
    )
    assert later.basis == "rate"
    assert later.seconds == pytest.approx(995 / 0.4)


def test_zero_rate_gives_no_rate_estimate() -> None:
    eta = estimate_eta(
        done=100, total=1000, rate=0.0, started_at=at(0), progress_at=at(60), now=at(60)
    )
    assert eta.basis == "none"


def test_reaching_total_reads_done() -> None:
    for done in (1000, 1200):
        eta = estimate_eta(
            done=done, total=1000, rate=None, started_at=at(0), progress_at=None, now=at(5)
        )
        assert eta.seconds == 0.0
        assert eta.text == "done"


# --- estimate_eta: history and blend -------------------------------------------


def test_history_alone_gives_typical_minus_elapsed() -> None:
    eta = estimate_eta(
        done=None,
        total=None,
        rate=None,
        started_at=at(0),
        progress_at=None,
        now=at(100),
        history=[600, 660, 540],
    )
    assert eta.basis == "history"
    assert eta.seconds == pytest.approx(500.0)


def test_without_total_only_history_can_help() -> None:
    def eta_with(history: list[float]) -> Eta:
        return estimate_eta(
            done=300.0,
            total=None,
            rate=10.0,
            started_at=at(0),
            progress_at=at(30),
            now=at(30),
            history=history,
        )

    assert eta_with([]).basis == "none"
    helped = eta_with([100.0])
    assert helped.basis == "history"
    assert helped.seconds == pytest.approx(70.0)


def test_history_dominates_early_and_rate_late() -> None:
    def eta_at(done: float) -> float:
        eta = estimate_eta(
            done=done,
            total=1000,
            rate=10.0,
            started_at=at(0),
            progress_at=at(100),
            now=at(100),
            history=[1000.0],
        )
        assert eta.basis == "blended"
        assert eta.seconds is not None
        return eta.seconds

    # History says 900 s left; the rate says (1000 - done) / 10.
    assert eta_at(20) == pytest.approx(0.02 * 98 + 0.98 * 900)
    assert eta_at(950) == pytest.approx(0.95 * 5 + 0.05 * 900)


def test_run_longer_than_usual_keeps_a_floor_and_says_why() -> None:
    eta = estimate_eta(
        done=None,
        total=None,
        rate=None,
        started_at=at(0),
        progress_at=None,
        now=at(900),
        history=[600.0],
    )
    assert eta.seconds == pytest.approx(30.0)  # 5 % of the typical 10 minutes
    assert eta.text == "about 30s left (taking longer than usual)"


def test_queued_run_expects_the_whole_typical_duration() -> None:
    eta = estimate_eta(
        done=None,
        total=None,
        rate=None,
        started_at=None,
        progress_at=None,
        now=T0,
        history=[120.0, 180.0],
    )
    assert eta.seconds == pytest.approx(150.0)


@pytest.mark.parametrize(
    ("done", "total", "rate", "history"),
    [
        (100.0, math.nan, 10.0, ()),
        (100.0, 1000.0, math.inf, ()),
        (100.0, 1000.0, math.nan, (math.nan, -5.0)),
        (-50.0, 1000.0, 10.0, ()),
        (100.0, 1000.0, 1e-320, ()),
        (100.0, 0.0, 10.0, (60.0,)),
        (100.0, -10.0, 10.0, ()),
        (math.inf, 1000.0, 10.0, (math.inf,)),
        (100.0, 1000.0, -3.0, (1e300,)),
    ],
)
def test_eta_is_never_negative_nan_or_infinite(
    done: float, total: float, rate: float, history: tuple[float, ...]
) -> None:
    for now in (at(-30), at(10), at(10_000)):
        eta = estimate_eta(
            done=done,
            total=total,
            rate=rate,
            started_at=at(0),
            progress_at=at(10),
            now=now,
            history=history,
        )
        assert eta.seconds is None or (math.isfinite(eta.seconds) and eta.seconds >= 0)
        assert eta.text


# --- typical_duration ---------------------------------------------------------


def test_typical_duration_is_median_of_the_last_ten_runs() -> None:
    assert typical_duration([100.0] * 10 + [10_000.0] * 20) == 100.0
    assert typical_duration([30.0, 10.0, 20.0, 40.0]) == 25.0


def test_typical_duration_ignores_nonsense_and_is_none_without_history() -> None:
    assert typical_duration([]) is None
    assert typical_duration([math.nan, -1.0, 0.0]) is None
    assert typical_duration([math.inf, 50.0]) == 50.0
