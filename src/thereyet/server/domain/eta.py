"""ETAs a person can trust: a smoothed rate, the job's history, and honesty about stalls.

Everything here is pure: callers pass `now` and the run's numbers, nothing is stored.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from thereyet.server.domain.cards import format_duration

EtaBasis = Literal["rate", "history", "blended", "none"]

SMOOTHING_SECONDS = 30.0
"""Default time constant of the rate smoothing: older speed fades with this scale."""

HISTORY_RUNS = 10
"""How many of the job's latest successful runs make up its typical duration."""

NOT_ENOUGH_DATA = "not enough data yet"

# Below both of these a rate is mostly noise from the first seconds of a run.
_MIN_FRACTION = 0.01
_MIN_SPAN_SECONDS = 10.0
# Reporters send progress every few seconds; within this quiet time we assume
# the run kept its pace, after it the silence counts as time without progress.
_QUIET_GRACE_SECONDS = 15.0
# An unfinished run always has something left; the history floor scales with the job.
_MIN_LEFT_SECONDS = 1.0
_HISTORY_FLOOR_FRACTION = 0.05
# Beyond a year an estimate is not an estimate, and timedelta arithmetic stays safe.
_MAX_SECONDS = 365 * 24 * 3600.0


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


@dataclass(frozen=True)
class Eta:
    """Seconds left (None when unknown), what the estimate rests on, and why it says so."""

    seconds: float | None
    basis: EtaBasis
    reason: str | None = None

    def finish_at(self, now: datetime) -> datetime | None:
        """Return when the run should finish, or None if unknown."""
        if self.seconds is None:
            return None
        return now + timedelta(seconds=self.seconds)

    @property
    def text(self) -> str:
        """A phrase for people: "about 3h12m left", "not enough data yet", "done"."""
        if self.seconds is None:
            return self.reason or NOT_ENOUGH_DATA
        if self.seconds <= 0:
            return "done"
        phrase = f"about {format_duration(self.seconds)} left"
        return f"{phrase} ({self.reason})" if self.reason else phrase


def typical_duration(history: Sequence[float]) -> float | None:
    """Median of the latest HISTORY_RUNS durations (newest first); None without any.

    Durations that are not finite or not positive are ignored.
    """
    usable = [d for d in history[:HISTORY_RUNS] if math.isfinite(d) and d > 0]
    return statistics.median(usable) if usable else None


def estimate_eta(
    *,
    done: float | None,
    total: float | None,
    rate: float | None,
    started_at: datetime | None,
    progress_at: datetime | None,
    now: datetime,
    history: Sequence[float] = (),
) -> Eta:
    """Estimate the time left of a run from its progress, its rate and the job's history.

    `history` holds durations in seconds of the job's earlier successful runs,
    newest first. The rate estimate is weighted by the fraction done, so early
    on the history dominates and late the live rate does. A run that has
    reached its total is "done" (0 s). Without enough of either, seconds is
    None with basis "none". The result is never negative, NaN or infinite.
    """
    done, total, rate = _finite(done), _finite(total), _finite(rate)
    if total is not None and total <= 0:
        total = None
    if done is not None:
        done = max(0.0, done)
    if done is not None and total is not None and done >= total:
        return Eta(seconds=0.0, basis="rate")
    by_rate, rate_reason = _rate_estimate(done, total, rate, started_at, progress_at, now)
    by_history, history_reason = _history_estimate(history, started_at, now)
    if by_rate is None and by_history is None:
        return Eta(seconds=None, basis="none", reason=NOT_ENOUGH_DATA)
    if by_history is None:
        return Eta(seconds=by_rate, basis="rate", reason=rate_reason)
    if by_rate is None or done is None or total is None:
        return Eta(seconds=by_history, basis="history", reason=history_reason)
    weight = min(1.0, max(0.0, done / total))
    blended = weight * by_rate + (1.0 - weight) * by_history
    return Eta(seconds=blended, basis="blended", reason=rate_reason or history_reason)


def _rate_estimate(
    done: float | None,
    total: float | None,
    rate: float | None,
    started_at: datetime | None,
    progress_at: datetime | None,
    now: datetime,
) -> tuple[float | None, str | None]:
    """Seconds left at the smoothed rate, stretched by silence since the last progress."""
    if done is None or total is None or rate is None or rate <= 0:
        return None, None
    span = _seconds_between(started_at, progress_at)
    if done / total < _MIN_FRACTION and span < _MIN_SPAN_SECONDS:
        return None, None
    at_last_sample = (total - done) / rate
    quiet = _seconds_between(progress_at, now)
    silent = max(0.0, quiet - _QUIET_GRACE_SECONDS)
    # Count the silence as time worked without progress: the average rate over
    # the run so far drops by span / (span + silent). A long run shrugs off a
    # short silence; a stalled run's ETA grows instead of counting down to zero.
    memory = max(span, SMOOTHING_SECONDS)
    left = at_last_sample * (1.0 + silent / memory) - min(quiet, _QUIET_GRACE_SECONDS)
    if not math.isfinite(left) or left > _MAX_SECONDS:
        return None, None
    reason = f"no progress for {format_duration(quiet)}" if silent > 0 else None
    return max(left, _MIN_LEFT_SECONDS), reason


def _history_estimate(
    history: Sequence[float], started_at: datetime | None, now: datetime
) -> tuple[float | None, str | None]:
    """Seconds left if this run takes as long as the job typically does."""
    typical = typical_duration(history)
    if typical is None or typical > _MAX_SECONDS:
        return None, None
    left = typical - _seconds_between(started_at, now)
    floor = max(_MIN_LEFT_SECONDS, typical * _HISTORY_FLOOR_FRACTION)
    if left < floor:
        return floor, "taking longer than usual"
    return left, None


def _seconds_between(start: datetime | None, end: datetime | None) -> float:
    """Seconds from start to end, 0 when either is unknown or they are out of order."""
    if start is None or end is None:
        return 0.0
    return max(0.0, (end - start).total_seconds())


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
