"""ETAs in the hub: runs and their thereyet.eta estimators, and the rate shown beside them.

The estimating itself is thereyet.eta's, shared with the SDK and the CLI. Here:
feeding a run's progress to its estimator, asking it at `now`, scoring it when
the run ends, the job's accuracy over its runs, and the smoothed rate (units a
second) the pages show. Pure: callers pass `now`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from thereyet.eta import CHECKPOINTS, Estimate, Estimator

from .runs import Run

SMOOTHING_SECONDS = 30.0
"""Default time constant of the rate smoothing: older speed fades with this scale."""

HISTORY_RUNS = 10
"""How many of the job's latest successful runs make up its typical duration."""


@dataclass(frozen=True)
class RateSample:
    """The last progress seen (`done` at `at`) and the smoothed rate in units/second."""

    done: float
    at: datetime
    rate: float | None


def update_rate(
    prev: RateSample | None, done: float, at: datetime, *, tau: float = SMOOTHING_SECONDS
) -> RateSample:
    """Fold the progress `done` reported at `at` into the smoothed rate.

    Smoothing is time-aware: alpha = 1 - exp(-dt/tau), so many quick samples weigh
    as much as one slow one covering the same time. The first sample, and a
    sample where `done` went backwards (a reset, such as a new phase), start
    over with rate None. A sample not newer than `prev` (duplicate or out of
    order) keeps the rate and time, and only raises `done` if it is larger.
    The rate is never negative. Raise ValueError if `done` is not finite.
    """
    if not math.isfinite(done):
        raise ValueError(f"progress must be a finite number, got {done!r}")
    if prev is None:
        return RateSample(done=done, at=at, rate=None)
    dt = (at - prev.at).total_seconds()
    if dt <= 0:
        # Credit the extra units to the newest time we know; the rate catches up.
        return RateSample(done=max(done, prev.done), at=prev.at, rate=prev.rate)
    if done < prev.done:
        return RateSample(done=done, at=at, rate=None)
    instant = (done - prev.done) / dt
    if prev.rate is None:
        return RateSample(done=done, at=at, rate=instant)
    alpha = 1.0 - math.exp(-dt / tau)
    return RateSample(done=done, at=at, rate=prev.rate + alpha * (instant - prev.rate))


def typical_duration(history: Sequence[float]) -> float | None:
    """Median of the latest HISTORY_RUNS durations (newest first); None without any.

    Durations that are not finite or not positive are ignored.
    """
    usable = [d for d in history[:HISTORY_RUNS] if math.isfinite(d) and d > 0]
    return statistics.median(usable) if usable else None


def run_estimate(run: Run, now: datetime, history: Sequence[float]) -> Estimate:
    """The ETA of an unfinished run at `now`, from its own estimator.

    A run without one (made before the hub kept estimators) gets one from its
    figures; an estimator made without history (the job had none then) weighs
    the job's `history` of now (durations of earlier successful runs, newest first).
    """
    estimator = run.eta
    if estimator is None:
        estimator = Estimator(run.total, history)
        if run.done is not None and run.progress_at is not None:
            estimator.observe(_since(run.started_at, run.progress_at), run.done)
    elif not estimator.history and history:
        estimator = estimator.with_history(history)
    return estimator.remaining(_since(run.started_at, now))


def observe_progress(run: Run, samples: Sequence[tuple[datetime, float, float | None]]) -> None:
    """Feed progress samples (time, done, total) to the run's estimator: a new one."""
    if not samples or run.started_at is None:
        return
    estimator = run.eta.copy() if run.eta is not None else Estimator(run.total)
    start = run.started_at
    for at, done, total in samples:
        # Not clamped at 0: a client whose clock is behind the hub's stamps its
        # reports before the run's start, and their spacing is still its rate
        # (the estimator counts the elapsed time from 0).
        estimator.observe((at - start).total_seconds(), done, total)
    run.eta = estimator


def score_run(run: Run) -> None:
    """Let a succeeded run's predictions be scored against its real end."""
    if run.eta is None or run.started_at is None or run.finished_at is None:
        return
    estimator = run.eta.copy()
    estimator.finish(_since(run.started_at, run.finished_at))
    run.eta = estimator


@dataclass(frozen=True)
class Accuracy:
    """How right a job's ETAs were over its recent runs: the median relative error of
    what was said at 25, 50 and 75 % done, and how often the range held the truth."""

    runs: int
    error: float | None
    by_checkpoint: dict[float, float]
    held: float | None


def eta_accuracy(estimators: Sequence[Estimator]) -> Accuracy:
    """The accuracy of the finished runs' estimators (others are left out)."""
    errors: dict[float, list[float]] = {mark: [] for mark in CHECKPOINTS}
    held: list[bool] = []
    runs = 0
    for estimator in estimators:
        end = estimator.end
        if end is None or not estimator.predictions:
            continue
        runs += 1
        for prediction in estimator.predictions:
            error = prediction.error(end)
            if error is not None:
                errors[prediction.fraction].append(error)
            inside = prediction.held(end)
            if inside is not None:
                held.append(inside)
    every = [e for values in errors.values() for e in values]
    return Accuracy(
        runs=runs,
        error=statistics.median(every) if every else None,
        by_checkpoint={mark: statistics.median(v) for mark, v in errors.items() if v},
        held=sum(held) / len(held) if held else None,
    )


def _since(start: datetime | None, end: datetime) -> float:
    return 0.0 if start is None else max(0.0, (end - start).total_seconds())
