"""How long a run has left: one estimator for the hub, the SDK and `thereyet status`.

Standard library only, and pure: times are seconds since the run started,
passed in by the caller. The estimator keeps the run's progress as a few
dozen "knots" (time, done) that thin out as the run grows, so its state stays
small however long the run, and each `observe` costs O(1) amortised.

How it decides (each line was measured on bench/eta.py's replay suite):
- the rate is taken since the run's last significant change (warm-up over,
  a phase change, a stall ended), found by fitting two straight pieces to the
  progress and keeping the split only when it explains far more than one;
- the job's earlier durations are a prior on the run's *total* duration:
  they weigh the models that fit the live data (whole run, since the change,
  slowing down), and do not make a guess of their own once progress speaks;
- a slowing pace is extrapolated only when its trend is significant and the
  history agrees; a speed-up never is;
- silence counts as time without progress, and says so in `reason`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ._eta_fit import Fit, fit_models

Basis = Literal["rate", "history", "done", "none"]

__all__ = [
    "CHECKPOINTS",
    "Basis",
    "Estimate",
    "Estimator",
    "Prediction",
    "describe_duration",
    "describe_range",
]

MAX_KNOTS = 40
"""Knots kept at most; past it every other one goes and the spacing doubles."""
HISTORY_RUNS = 10
"""How many of the job's latest successful runs make up its prior."""
NOT_ENOUGH_DATA = "not enough data yet"

_FIRST_SPACING = 1.0  # seconds between knots at the start of a run
_MIN_DURATION = 1.0  # a "run" shorter than this (a bare ping) says nothing about the job
_QUIET_GRACE = 15.0  # silence shorter than this (or 3 report gaps) is just reporting cadence
_MIN_EVIDENCE = 0.02  # fraction done below which, with little time, the live rate is noise
_MIN_EVIDENCE_SECONDS = 20.0
_MAX_SECONDS = 365 * 24 * 3600.0
_STATE_VERSION = 1
# Runs of a job differ by at least this much (log scale), however alike its history.
_MIN_PRIOR_SPREAD = 0.1


@dataclass(frozen=True)
class Estimate:
    """Seconds left (None when honestly unknown), a range to plan with, and why.

    `low <= seconds <= high` whenever seconds is known; `basis` says what the
    figure rests on ("rate": this run's progress, weighed by the history;
    "history": the job's earlier runs only; "done"; "none"), `reason` a
    phrase for people when something is off ("no progress for 5 min").
    """

    seconds: float | None
    low: float | None = None
    high: float | None = None
    basis: Basis = "none"
    reason: str | None = None

    @property
    def text(self) -> str:
        """ "about 7-9 min left", "about 40-60s left (no progress for 2 min)", "not enough data yet"."""
        if self.seconds is None:
            return self.reason or NOT_ENOUGH_DATA
        if self.seconds <= 0:
            return "done"
        low = self.seconds if self.low is None else self.low
        high = self.seconds if self.high is None else self.high
        phrase = f"about {describe_range(low, high)} left"
        return f"{phrase} ({self.reason})" if self.reason else phrase

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape shown by the API: seconds, low, high rounded to 0.1 s."""
        return {
            "seconds": _round(self.seconds),
            "low": _round(self.low),
            "high": _round(self.high),
            "basis": self.basis,
            "reason": self.reason,
            "text": self.text,
        }


@dataclass(frozen=True)
class Prediction:
    """What the estimator said when the run first reached `fraction` of its total,
    `t` seconds in; once the run has ended (`end`), how far off it was."""

    fraction: float
    t: float
    seconds: float | None
    low: float | None
    high: float | None

    def error(self, end: float) -> float | None:
        """|said - truth| / truth for a run that ended at `end`; 1.0 if it said nothing."""
        truth = end - self.t
        if truth <= 0:
            return None
        return 1.0 if self.seconds is None else abs(self.seconds - truth) / truth

    def held(self, end: float) -> bool | None:
        """Whether the range held the truth (None if there was no range)."""
        if self.low is None or self.high is None:
            return None
        return self.low <= end - self.t <= self.high


CHECKPOINTS = (0.25, 0.5, 0.75)
"""Fractions done at which every run records its prediction, to score it at the end."""


class Estimator:
    """Estimates the time left of one run from its progress and the job's history.

    `total` is the amount of work (units); `history` the durations in seconds of
    the job's earlier successful runs, newest first. Feed `observe(t, done)` in
    time order (an older or equal `t` only raises `done`; `done` going down is a
    reset and starts the rate over), and ask `remaining(now)` at any time. On the
    way it records its predictions at CHECKPOINTS; `finish(end)` lets them be scored.

    Two estimators are equal when their kept state is (knots, history,
    predictions...): the latest report alone does not count, since the hub
    keeps it in the run's own figures and hands it back with `catch_up`.
    Lists are replaced, never changed in place, so copies may share them.
    """

    def __init__(self, total: float | None, history: Sequence[float] = ()) -> None:
        self.total = total if total is not None and math.isfinite(total) and total > 0 else None
        self.history = [
            round(float(d), 1)
            for d in history[:HISTORY_RUNS]
            if math.isfinite(d) and d >= _MIN_DURATION
        ]
        self.knots: list[tuple[float, float]] = []
        self.spacing = _FIRST_SPACING
        self.last: tuple[float, float] | None = None
        self.gap = 0.0  # typical seconds between reports, smoothed at each knot
        self.predictions: list[Prediction] = []
        self.end: float | None = None
        self._reports = 0  # reports with progress since the last knot

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Estimator):
            return NotImplemented
        # The knots first: they are what changes (and the hub asks at every report).
        return self.knots == other.knots and self._kept() == other._kept()

    __hash__ = None  # type: ignore[assignment]

    def _kept(self) -> tuple[Any, ...]:
        return (self.total, self.history, self.spacing, self.predictions, self.end)

    def copy(self) -> Estimator:
        """An independent copy, cheap: its lists are shared, and every change replaces
        a list rather than changing it in place (the hub copies at every report)."""
        twin = Estimator.__new__(Estimator)
        twin.__dict__.update(self.__dict__)
        return twin

    def with_history(self, history: Sequence[float]) -> Estimator:
        """A copy that weighs its models by `history` instead of the one it was made with."""
        twin = self.copy()
        twin.history = Estimator(None, history).history
        return twin

    def observe(self, t: float, done: float, total: float | None = None) -> None:
        """Take the progress `done` reported `t` seconds into the run (and a new total)."""
        if total is not None and math.isfinite(total) and total > 0:
            self.total = total
        if not (math.isfinite(t) and math.isfinite(done)):
            return
        last = self.last
        if last is None or done < last[1]:
            self.knots = [(round(t, 2), _compact(done))]
            self.last, self.spacing, self._reports = (t, done), _FIRST_SPACING, 0
        elif t <= last[0]:
            self.last = (last[0], done)
        else:
            self._reports += done > last[1]
            self.last = (t, done)
            if t - self.knots[-1][0] >= self.spacing:
                self._add_knot(t, done)
        total = self.total
        marks = len(self.predictions)
        if total is not None and marks < len(CHECKPOINTS) and done >= CHECKPOINTS[marks] * total:
            self._predict(t, done / total)

    def _add_knot(self, t: float, done: float) -> None:
        if self._reports:
            gap = (t - self.knots[-1][0]) / self._reports
            self.gap = gap if not self.gap else self.gap + 0.3 * (gap - self.gap)
            self._reports = 0
        # Kept as to_state writes it, so a state read back equals the one written.
        self.knots = [*self.knots, (round(t, 2), _compact(done))]
        if len(self.knots) > MAX_KNOTS:
            # Every other knot goes: the state stays small, observe stays O(1) amortised.
            self.knots = self.knots[::2]
            self.spacing *= 2

    def _predict(self, t: float, fraction: float) -> None:
        while len(self.predictions) < len(CHECKPOINTS):
            mark = CHECKPOINTS[len(self.predictions)]
            if fraction < mark:
                return
            said = self.remaining(t)
            said_then = Prediction(
                mark, round(t, 2), _round(said.seconds), _round(said.low), _round(said.high)
            )
            self.predictions = [*self.predictions, said_then]

    def catch_up(self, t: float, done: float) -> None:
        """Take the run's latest report back after a restart, if the state is older."""
        last = self.last
        if last is not None and (t < last[0] or done < last[1]):
            return
        self.last = (t, done)
        if not self.knots:
            self.knots = [(t, done)]

    def finish(self, end: float) -> None:
        """Note that the run succeeded `end` seconds after its start: its predictions can be scored."""
        self.end = _round(end)

    def remaining(self, now: float) -> Estimate:
        """The time left at `now` (seconds since the start), never negative or NaN."""
        total, last = self.total, self.last
        if total is not None and last is not None and last[1] >= total:
            return Estimate(0.0, 0.0, 0.0, "done")
        prior = _prior(self.history)
        if total is None or last is None or not self._enough_evidence(total, last):
            return self._from_history(prior, now)
        points = [*self.knots, last] if last != self.knots[-1] else list(self.knots)
        fit = fit_models(points, total, prior)
        if fit is None:
            return self._from_history(prior, now)
        return self._from_fit(fit, now)

    def _enough_evidence(self, total: float, last: tuple[float, float]) -> bool:
        first = self.knots[0]
        gained, span = last[1] - first[1], last[0] - first[0]
        if gained <= 0 or span <= 0:
            return False
        return gained / total >= _MIN_EVIDENCE or span >= _MIN_EVIDENCE_SECONDS

    def _from_fit(self, fit: Fit, now: float) -> Estimate:
        assert self.last is not None
        quiet = max(0.0, now - self.last[0])
        grace = max(_QUIET_GRACE, 3 * self.gap)
        left, reason = fit.seconds - quiet, None
        if quiet > grace:
            # Count the silence as time worked without progress: the rate since
            # the change drops by span / (span + silence), so a stalled run's
            # ETA grows instead of counting down to zero.
            left = fit.seconds * (1.0 + (quiet - grace) / max(fit.span, grace)) - grace
            reason = f"no progress for {describe_duration(quiet)}"
        left = max(left, min(fit.seconds, 1.0))
        if not math.isfinite(left) or left > _MAX_SECONDS:
            return Estimate(None, basis="none", reason="too slow to tell")
        low, high = left * math.exp(-fit.spread), left * math.exp(fit.spread)
        return Estimate(left, low, high, "rate", reason)

    def _from_history(self, prior: tuple[float, float] | None, now: float) -> Estimate:
        """Before the run's own progress tells anything: the job's usual duration, if clear."""
        if prior is None:
            return Estimate(None, basis="none", reason=NOT_ENOUGH_DATA)
        typical, spread = prior
        left = typical - now
        if left <= 0.1 * typical:
            return Estimate(None, basis="none", reason="taking longer than usual")
        low = max(0.0, typical * math.exp(-2 * spread) - now)
        high = typical * math.exp(2 * spread) - now
        return Estimate(left, min(low, left), high, "history")

    def to_state(self) -> dict[str, Any]:
        """A JSON-ready state, about 1 KB at most however long the run: see from_state."""
        return {
            "v": _STATE_VERSION,
            "total": self.total,
            "history": self.history,
            "knots": [list(knot) for knot in self.knots],
            "spacing": self.spacing,
            "last": None if self.last is None else list(self.last),
            "gap": round(self.gap, 2),
            "predictions": [[p.fraction, p.t, p.seconds, p.low, p.high] for p in self.predictions],
            "end": self.end,
        }

    @classmethod
    def from_state(cls, state: Any) -> Estimator:
        """Rebuild an estimator from to_state().

        A state this version cannot read (or a damaged one) gives a fresh
        estimator: an ETA that starts over is better than none."""
        total = state.get("total") if isinstance(state, dict) else None
        estimator = cls(total if isinstance(total, int | float) else None)
        try:
            if state.get("v") != _STATE_VERSION:
                raise ValueError("unknown state version")
            estimator.history = [float(d) for d in state["history"]][:HISTORY_RUNS]
            estimator.knots = [(float(t), float(d)) for t, d in state["knots"]][:MAX_KNOTS]
            estimator.spacing = float(state["spacing"])
            last = state["last"]
            estimator.last = None if last is None else (float(last[0]), float(last[1]))
            estimator.gap = float(state["gap"])
            estimator.predictions = [_prediction(p) for p in state["predictions"]][:3]
            estimator.end = None if state["end"] is None else float(state["end"])
        except (AttributeError, KeyError, TypeError, ValueError):
            return cls(estimator.total)
        if estimator.last is not None and not estimator.knots:
            estimator.knots = [estimator.last]
        return estimator


def _prediction(row: Sequence[Any]) -> Prediction:
    fraction, t, seconds, low, high = row
    return Prediction(float(fraction), float(t), _float(seconds), _float(low), _float(high))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _prior(history: Sequence[float]) -> tuple[float, float] | None:
    """The job's typical duration (median) and its spread (median absolute log
    deviation, at least _MIN_PRIOR_SPREAD), from two runs or more."""
    if len(history) < 2:
        return None
    typical = statistics.median(history)
    logs = [math.log(d / typical) for d in history]
    spread = statistics.median(abs(x) for x in logs)
    return typical, max(_MIN_PRIOR_SPREAD, spread)


def describe_range(low: float, high: float) -> str:
    """Say a range briefly in one unit: "40-60s", "7-9 min", "1h10m-1h25m", "3 min"."""
    low, high = max(0.0, low), max(0.0, high, low)
    if high < 90:  # "40-60s" reads better than "1 min"
        a, b = round(low), max(1, round(high))
        return f"{b}s" if a >= b else f"{a}-{b}s"
    if high < 3600:
        a, b = round(low / 60), max(1, round(high / 60))
        return f"{b} min" if a >= b else f"{a}-{b} min"
    if high < 48 * 3600:
        return _hours(low) if _hours(low) == _hours(high) else f"{_hours(low)}-{_hours(high)}"
    a, b = round(low / 86400), round(high / 86400)
    return f"{b} days" if a >= b else f"{a}-{b} days"


def describe_duration(seconds: float) -> str:
    """Say a duration briefly: "40s", "5 min", "1h10m", "3 days"."""
    return describe_range(seconds, seconds)


def _hours(seconds: float) -> str:
    minutes = round(seconds / 300) * 5  # to the 5 minutes: "1h10m", not "1h12m"
    hours, minutes = divmod(minutes, 60)
    if hours == 0:
        return f"{minutes}m"
    return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"


def _compact(value: float) -> float:
    return float(f"{value:.7g}")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
