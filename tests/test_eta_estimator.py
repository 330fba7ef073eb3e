"""thereyet.eta: the estimator the hub, the SDK and the CLI share. Pure, fake times."""

from __future__ import annotations

import json
import math
import random

import pytest

from thereyet.eta import CHECKPOINTS, Estimate, Estimator, describe_range

TOTAL = 1000.0


def steady(estimator: Estimator, per_second: float, until: float, *, start: float = 0.0) -> None:
    """Report every 2 s at `per_second` units a second, from `start` to `until`."""
    t = start
    done = estimator.last[1] if estimator.last else 0.0
    while t <= until:
        estimator.observe(t, done)
        t += 2.0
        done += 2.0 * per_second


# --- what it says, and when it says nothing -------------------------------------


def test_a_new_run_without_progress_or_history_has_no_eta() -> None:
    estimate = Estimator(TOTAL).remaining(5.0)
    assert estimate.seconds is None
    assert estimate.basis == "none"
    assert estimate.text == "not enough data yet"


def test_a_new_run_with_a_history_of_0s_and_6s_runs_does_not_say_2s_left() -> None:
    estimator = Estimator(TOTAL, [0.0, 6.0])
    estimator.observe(0.0, 0.0)
    estimate = estimator.remaining(4.0)
    assert estimate.seconds is None
    assert "2s" not in estimate.text


def test_before_any_progress_a_clear_history_gives_the_usual_time_left() -> None:
    estimator = Estimator(TOTAL, [600.0, 620.0, 580.0])
    estimate = estimator.remaining(100.0)
    assert estimate.basis == "history"
    assert estimate.seconds == pytest.approx(500.0)
    assert estimate.low is not None and estimate.high is not None
    assert estimate.low < 500.0 < estimate.high


def test_a_run_past_its_usual_duration_without_progress_says_so() -> None:
    estimate = Estimator(TOTAL, [60.0, 60.0, 60.0]).remaining(300.0)
    assert estimate.seconds is None
    assert estimate.reason == "taking longer than usual"


def test_a_steady_run_gets_work_left_over_its_rate() -> None:
    estimator = Estimator(TOTAL)
    steady(estimator, 5.0, 40.0)  # 200 units in 40 s
    estimate = estimator.remaining(40.0)
    assert estimate.basis == "rate"
    assert estimate.seconds == pytest.approx(160.0, rel=0.01)
    assert estimate.low is not None and estimate.high is not None
    assert estimate.low < estimate.seconds < estimate.high


def test_a_run_that_reached_its_total_is_done() -> None:
    estimator = Estimator(TOTAL)
    estimator.observe(0.0, 0.0)
    estimator.observe(10.0, TOTAL)
    assert estimator.remaining(10.0) == Estimate(0.0, 0.0, 0.0, "done")
    assert estimator.remaining(10.0).text == "done"


def test_eta_counts_down_between_reports() -> None:
    estimator = Estimator(TOTAL)
    steady(estimator, 5.0, 40.0)
    at_report = estimator.remaining(40.0).seconds
    later = estimator.remaining(45.0).seconds
    assert at_report is not None and later is not None
    assert later == pytest.approx(at_report - 5.0)


def test_a_stalled_run_eta_grows_and_says_why() -> None:
    estimator = Estimator(TOTAL)
    steady(estimator, 5.0, 40.0)
    before = estimator.remaining(40.0).seconds
    stalled = estimator.remaining(340.0)
    assert before is not None and stalled.seconds is not None
    assert stalled.seconds > before
    assert stalled.reason == "no progress for 5 min"
    assert "(no progress for 5 min)" in stalled.text


def test_after_a_warm_up_the_rate_since_the_change_is_used() -> None:
    estimator = Estimator(TOTAL)
    steady(estimator, 1.0, 60.0)  # slow start: 60 units in 60 s
    steady(estimator, 10.0, 120.0, start=62.0)  # then 10 units a second
    done = estimator.last[1] if estimator.last else 0.0
    estimate = estimator.remaining(120.0)
    assert estimate.seconds == pytest.approx((TOTAL - done) / 10.0, rel=0.1)


def test_a_stall_then_resume_takes_the_rate_since_the_resume() -> None:
    estimator = Estimator(TOTAL)
    steady(estimator, 5.0, 40.0)  # 200 units
    steady(estimator, 5.0, 400.0, start=300.0)  # silent from 40 to 300 s, then 5/s again
    done = estimator.last[1] if estimator.last else 0.0
    estimate = estimator.remaining(400.0)
    assert estimate.seconds == pytest.approx((TOTAL - done) / 5.0, rel=0.1)


def test_history_tells_a_slowing_run_from_a_steady_one() -> None:
    """The same first half, once with a history that says the run slows, once without."""
    runs = []
    for history in ([], [2000.0, 2100.0, 1900.0]):
        estimator = Estimator(TOTAL, history)
        t, done = 0.0, 0.0
        while done < TOTAL / 2:
            estimator.observe(t, done)
            t += 2.0
            done += 2.0 / (1.0 + 2.0 * (done / TOTAL) ** 2)  # pace grows with the work done
        runs.append(estimator.remaining(t - 2.0).seconds or 0.0)
    without, with_history = runs
    assert with_history > without * 1.15


def test_a_run_far_longer_than_its_history_trusts_its_own_steady_progress() -> None:
    estimator = Estimator(TOTAL, [4.0, 4.1, 3.9])  # earlier runs took 4 s; this one is 5x slower
    steady(estimator, 50.0, 6.0)  # 300 units in 6 s: 14 s left at this pace
    estimate = estimator.remaining(6.0)
    assert estimate.seconds == pytest.approx(14.0, rel=0.05)


def test_a_speed_up_is_never_extrapolated() -> None:
    estimator = Estimator(TOTAL, [600.0, 600.0, 600.0])
    t, done = 0.0, 0.0
    while done < TOTAL / 2:
        estimator.observe(t, done)
        t += 2.0
        done += 2.0 * (0.5 + done / TOTAL)  # faster and faster
    estimate = estimator.remaining(t - 2.0)
    recent_rate = 0.5 + (done / TOTAL)
    assert estimate.seconds is not None
    assert estimate.seconds >= 0.5 * (TOTAL - done) / recent_rate


@pytest.mark.parametrize("seed", range(20))
def test_eta_is_never_negative_nan_or_infinite_and_the_range_holds_it(seed: int) -> None:
    rnd = random.Random(seed)
    estimator = Estimator(rnd.choice([TOTAL, 1.0, 1e9]), [rnd.uniform(1, 1e5) for _ in range(3)])
    t, done = rnd.choice([0.0, -500.0]), 0.0  # a clock behind stamps reports before the start
    for _ in range(rnd.randint(1, 300)):
        t += rnd.choice([0.0, 0.1, 1.0, 50.0, 5000.0])
        done = max(0.0, done + rnd.choice([0.0, 1.0, 100.0, -50.0]))
        estimator.observe(t, done)
        estimate = estimator.remaining(t + rnd.choice([0.0, 10.0, 1e6]))
        if estimate.seconds is not None:
            assert math.isfinite(estimate.seconds) and estimate.seconds >= 0
            assert estimate.low is not None and estimate.high is not None
            assert 0 <= estimate.low <= estimate.seconds <= estimate.high


@pytest.mark.parametrize("seed", range(10))
def test_the_eta_does_not_depend_on_the_unit_work_is_counted_in(seed: int) -> None:
    rnd = random.Random(seed)
    rows, bytes_ = Estimator(TOTAL, [900.0, 1000.0]), Estimator(TOTAL * 4096, [900.0, 1000.0])
    t, done = 0.0, 0.0
    while done < TOTAL * 0.8:
        t += rnd.uniform(0.5, 20.0)
        done = min(TOTAL, done + rnd.uniform(0.0, 15.0) * rnd.choice([0.2, 1.0, 3.0]))
        rows.observe(t, done)
        bytes_.observe(t, done * 4096)
    for now in (t, t + 100.0):
        a, b = rows.remaining(now), bytes_.remaining(now)
        assert a.seconds == pytest.approx(b.seconds, rel=1e-3)  # knots keep 7 digits
        assert a.high == pytest.approx(b.high, rel=1e-3)


def test_more_silence_never_brings_the_end_closer_once_past_the_grace() -> None:
    estimator = Estimator(TOTAL)
    steady(estimator, 5.0, 60.0)
    later = [estimator.remaining(60.0 + quiet).seconds or 0.0 for quiet in range(20, 2000, 20)]
    assert later == sorted(later)


def test_nonsense_input_is_ignored_not_raised() -> None:
    estimator = Estimator(math.nan, [math.nan, -5.0, math.inf])
    estimator.observe(math.nan, 5.0)
    estimator.observe(1.0, math.inf)
    assert estimator.total is None
    assert estimator.history == []
    assert estimator.remaining(2.0).seconds is None


# --- predictions ------------------------------------------------------------------


def test_predictions_are_recorded_at_25_50_and_75_percent_and_scored_at_the_end() -> None:
    estimator = Estimator(TOTAL)
    steady(estimator, 5.0, 200.0)  # 1000 units at 200 s
    assert [p.fraction for p in estimator.predictions] == list(CHECKPOINTS)
    assert [p.t for p in estimator.predictions] == [50.0, 100.0, 150.0]
    estimator.finish(200.0)
    for p in estimator.predictions:
        error = p.error(200.0)
        assert error is not None and error < 0.05
        assert p.held(200.0) is True


def test_a_jump_past_two_checkpoints_records_both_at_that_time() -> None:
    estimator = Estimator(TOTAL)
    steady(estimator, 1.0, 40.0)
    estimator.observe(42.0, 600.0)
    assert [(p.fraction, p.t) for p in estimator.predictions] == [(0.25, 42.0), (0.5, 42.0)]


def test_a_prediction_of_nothing_scores_as_a_full_miss() -> None:
    estimator = Estimator(TOTAL)
    estimator.observe(0.0, 300.0)  # 30 % at the first report: nothing to go on yet
    assert estimator.predictions[0].seconds is None
    assert estimator.predictions[0].error(100.0) == 1.0


# --- state ------------------------------------------------------------------------


def test_state_round_trip_gives_the_same_estimate() -> None:
    estimator = Estimator(TOTAL, [300.0, 320.0])
    steady(estimator, 3.0, 250.0)
    estimator.finish(333.0)
    again = Estimator.from_state(json.loads(json.dumps(estimator.to_state())))
    assert again == estimator
    assert again.remaining(260.0) == estimator.remaining(260.0)
    assert again.predictions == estimator.predictions


def test_state_stays_under_2_kb_however_long_the_run() -> None:
    estimator = Estimator(1e12, [86400.0] * 20)
    for i in range(200_000):
        estimator.observe(i * 1.7, i * 1234.5678)
    size = len(json.dumps(estimator.to_state(), separators=(",", ":")))
    assert size < 2048
    assert len(estimator.knots) <= 40


def test_a_damaged_or_unknown_state_starts_over() -> None:
    assert Estimator.from_state({"v": 99, "total": 10.0}) == Estimator(10.0)
    assert Estimator.from_state({"v": 1, "total": 10.0, "knots": "x"}) == Estimator(10.0)
    assert Estimator.from_state("nonsense") == Estimator(None)


def test_estimators_differ_only_by_their_kept_state_not_the_latest_report() -> None:
    one = Estimator(TOTAL)
    one.observe(0.0, 0.0)
    two = one.copy()
    two.observe(0.5, 1.0)  # within the first knot spacing: no new knot
    assert two == one
    two.observe(5.0, 10.0)
    assert two != one
    assert one.last == (0.0, 0.0)  # the copy did not touch the original


def test_catch_up_restores_the_latest_report_after_a_restart() -> None:
    estimator = Estimator(TOTAL)
    steady(estimator, 5.0, 40.0)
    kept = Estimator.from_state({**estimator.to_state(), "last": [20.0, 100.0]})
    kept.catch_up(40.0, 200.0)
    assert kept.remaining(40.0) == estimator.remaining(40.0)
    kept.catch_up(30.0, 150.0)  # older: ignored
    assert kept.last == (40.0, 200.0)


# --- words --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "text"),
    [
        (40, 50, "40-50s"),
        (45, 45, "45s"),
        (420, 540, "7-9 min"),
        (170, 190, "3 min"),
        (4200, 5100, "1h10m-1h25m"),
        (7200, 7500, "2h-2h05m"),
        (7200, 7300, "2h"),
        (3 * 86400, 4 * 86400, "3-4 days"),
    ],
)
def test_a_range_is_said_briefly_in_one_unit(low: float, high: float, text: str) -> None:
    assert describe_range(low, high) == text


def test_estimate_text_says_about_a_range_left() -> None:
    assert Estimate(480.0, 420.0, 540.0, "rate").text == "about 7-9 min left"
