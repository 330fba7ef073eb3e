"""The models behind thereyet.eta, fitted on demand to a run's knots (time, done).

Pure arithmetic on at most MAX_KNOTS + 1 points; nothing here is kept. The
constants were chosen on seeds 1-5 of bench/eta.py (see docs/benchmarks.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]
Piece = tuple[float, float, float]  # (fraction done at its middle, seconds per unit, units)

# A split must leave this many points after it, so one report cannot make a "phase".
_MIN_POINTS_AFTER = 3
# Two straight pieces that leave this share of one piece's error, or less, are a
# clear change of pace; at _NO_CHANGE or more, no change at all (weights in between).
_CLEAR_CHANGE = 0.1
_NO_CHANGE = 0.6
# A ramp (warm-up) looks like a run of changes: follow them while this clear.
_RAMP_CHANGE = 0.2
# Pieces since a split below this error share are the run's current stretch.
_STRETCH_CHANGE = 0.5
# Significance (t statistic) of a slowing pace before it may be extrapolated, and
# how much doubt (log scale, per fraction left) such an extrapolation carries.
_SLOWING_T = 2.0
_SLOWING_DOUBT = 0.2
# A steady past does not promise a steady future: doubt per fraction left (log scale).
_FUTURE_DOUBT = 0.05
# The range: every estimate is at least this uncertain (log scale), and the
# range spans this many standard deviations each way (about 80 % held the truth).
_FLOOR_SPREAD = 0.06
_RANGE_Z = 1.3
# A run whose live total lies this many standard deviations from the history is
# another kind of run (a bigger input): the history's weight falls off beyond it.
_PRIOR_OUTLIER_Z = 3.0


@dataclass(frozen=True)
class Fit:
    """Seconds left at the last point, the span the rate rests on, the range's log spread."""

    seconds: float
    span: float
    spread: float


@dataclass(frozen=True)
class _Model:
    seconds: float  # left at the last point
    span: float  # seconds of progress the model rests on
    weight: float  # how well it fits the live data, 0..1
    doubt: float = 0.0  # log-scale doubt of its extrapolation beyond the data's noise


def fit_models(
    points: Sequence[Point], total: float, prior: tuple[float, float] | None
) -> Fit | None:
    """Weigh the models that fit the live progress by the job's history, if any.

    `prior` is the job's typical duration and its log-scale spread. Without it
    the whole run's rate and the rate since the latest change compete on the
    live data alone, and a slowing pace is never extrapolated. Return None
    when no model gives a positive rate.
    """
    t_n, d_n = points[-1]
    t_n = max(t_n, 0.0)  # reports stamped before the start (a clock behind): elapsed 0
    models = _rate_models(points, total - d_n)
    if prior is not None:
        slowing = _slowing_model(points, total)
        if slowing is not None and _agrees_better(slowing, models, t_n, prior[0]):
            models = [slowing]
    models = [m for m in models if m.weight > 0 and math.isfinite(m.seconds) and m.seconds > 0]
    if not models:
        return None
    logs = [math.log(t_n + m.seconds) for m in models]
    weights = [m.weight for m in models]
    if prior is not None:
        weights = _weigh_by_history(weights, logs, prior) or weights
    norm = sum(weights)
    mean = sum(w * x for w, x in zip(weights, logs, strict=True)) / norm
    live_seconds = math.exp(mean) - t_n
    share_left = min(1.0, live_seconds / math.exp(mean))
    fraction_left = max(0.0, min(1.0, (total - d_n) / total))
    noise = _pace_noise(points, _stretch_start(points))
    variance = share_left**2 * (noise**2 + (_FUTURE_DOUBT * fraction_left) ** 2)
    variance += _variance(weights, logs)
    variance += sum(w * m.doubt**2 for w, m in zip(weights, models, strict=True)) / norm
    if prior is not None:
        mean, variance = _with_prior(mean, variance, prior)
    # The prior may pull the estimate, but not below half of what the run itself says.
    seconds = max(math.exp(mean) - t_n, 0.5 * live_seconds)
    if not seconds > 0:  # a long run's total, less its elapsed time, can round to nothing
        seconds = min(m.seconds for m in models)
    span = sum(w * m.span for w, m in zip(weights, models, strict=True)) / norm
    spread = math.sqrt(variance + (_FLOOR_SPREAD * share_left) ** 2) / max(share_left, 1e-3)
    return Fit(seconds=seconds, span=span, spread=min(_RANGE_Z * spread, 3.0))


def _weigh_by_history(
    weights: Sequence[float], logs: Sequence[float], prior: tuple[float, float]
) -> list[float] | None:
    """Scale each model's weight by how plausible its total is for this job (None: none is)."""
    typical, spread = math.log(prior[0]), prior[1]
    scaled = [
        w * math.exp(-((x - typical) ** 2) / (2 * spread**2))
        for w, x in zip(weights, logs, strict=True)
    ]
    return scaled if sum(scaled) > 1e-12 else None


def _with_prior(mean: float, variance: float, prior: tuple[float, float]) -> tuple[float, float]:
    """Combine the live log-total with the job's prior, each by its precision: the
    prior counts where the live pace is noisy or early, hardly near the end, and
    less and less the further the live total lies outside it."""
    typical, spread = math.log(prior[0]), prior[1]
    live, history = 1 / max(variance, 1e-9), 1 / spread**2
    z = abs(mean - typical) / math.sqrt(max(variance, 1e-9) + spread**2)
    if z > _PRIOR_OUTLIER_Z:
        history *= (_PRIOR_OUTLIER_Z / z) ** 2
    return (mean * live + typical * history) / (live + history), 1 / (live + history)


def _agrees_better(model: _Model, others: Sequence[_Model], now: float, typical: float) -> bool:
    """Whether `model` puts the run's total nearer the job's typical duration than the others."""
    miss = abs(math.log((now + model.seconds) / typical))
    return all(
        miss < abs(math.log((now + m.seconds) / typical))
        for m in others
        if m.seconds > 0 and m.weight > 0.1
    )


def _variance(weights: Sequence[float], values: Sequence[float]) -> float:
    norm = sum(weights)
    mean = sum(w * x for w, x in zip(weights, values, strict=True)) / norm
    return sum(w * (x - mean) ** 2 for w, x in zip(weights, values, strict=True)) / norm


def _rate_models(points: Sequence[Point], left_units: float) -> list[_Model]:
    """The whole run's rate, and the rate since its latest clear change of pace."""
    t0, d0 = points[0]
    t_n, d_n = points[-1]
    whole = _Model(left_units * (t_n - t0) / (d_n - d0), t_n - t0, 1.0) if d_n > d0 else None
    split = _best_split(points)
    if split is None:
        return [whole] if whole else []
    k = _latest_change(points, split[0])
    t_k, d_k = points[k]
    if d_n <= d_k:
        return [whole] if whole else []
    clear = min(1.0, max(0.0, (_NO_CHANGE - split[1]) / (_NO_CHANGE - _CLEAR_CHANGE)))
    since = _Model(left_units * (t_n - t_k) / (d_n - d_k), t_n - t_k, clear)
    if whole is None:
        return [since]
    return [_Model(whole.seconds, whole.span, max(1.0 - clear, 1e-3)), since]


def _latest_change(points: Sequence[Point], k: int) -> int:
    """Follow a change to its end: while the stretch after split `k` has a clear
    split of its own (a ramp rather than a step), move to it."""
    for _ in range(4):
        inner = _best_split(points[k:])
        if inner is None or inner[1] > _RAMP_CHANGE:
            break
        k += inner[0]
    return k


def _stretch_start(points: Sequence[Point]) -> int:
    """Where the run's current stretch starts: its best split if that is a change, else 0."""
    split = _best_split(points)
    return split[0] if split is not None and split[1] < _STRETCH_CHANGE else 0


def _best_split(points: Sequence[Point]) -> tuple[int, float] | None:
    """The point where two straight pieces fit the progress best, and their error
    as a share of one straight piece's (small: a real change of pace)."""
    n = len(points) - 1
    if n < 2 + _MIN_POINTS_AFTER:
        return None
    whole = _chord_error(points, 0, n)
    if whole <= 0:
        return None
    best_k, best = 0, math.inf
    for k in range(2, n - _MIN_POINTS_AFTER + 1):
        error = _chord_error(points, 0, k) + _chord_error(points, k, n)
        if error < best:
            best_k, best = k, error
    return best_k, min(1.0, best / whole)


def _chord_error(points: Sequence[Point], a: int, b: int) -> float:
    """Squared distance of points a..b from the straight line through points a and b."""
    t_a, d_a = points[a]
    t_b, d_b = points[b]
    if t_b <= t_a:
        return 0.0
    rate = (d_b - d_a) / (t_b - t_a)
    return sum((d - d_a - rate * (t - t_a)) ** 2 for t, d in points[a + 1 : b])


def _pieces(points: Sequence[Point], start: int, total: float) -> list[Piece]:
    """The steps with progress since `start` (a silence joins the step that ends it)."""
    pieces: list[Piece] = []
    t_prev, d_prev = points[start]
    for t, d in points[start + 1 :]:
        if d > d_prev:
            pieces.append(((d + d_prev) / 2 / total, (t - t_prev) / (d - d_prev), d - d_prev))
            t_prev, d_prev = t, d
    return pieces


def _pace_noise(points: Sequence[Point], start: int) -> float:
    """Relative standard error of the mean pace since `start`, from its pieces' spread."""
    pieces = _pieces(points, start, 1.0)
    if len(pieces) < 3:
        return 0.5
    units = sum(w for _, _, w in pieces)
    mean = sum(w * p for _, p, w in pieces) / units
    if mean <= 0:
        return 0.5
    variance = sum(w * w * (p - mean) ** 2 for _, p, w in pieces) / (units * units)
    return math.sqrt(variance * len(pieces) / (len(pieces) - 1)) / mean


def _slowing_model(points: Sequence[Point], total: float) -> _Model | None:
    """Extrapolate the pace (seconds per unit) if it grows steadily with the work done.

    A weighted least-squares line of pace against fraction done over the
    current stretch, kept only if its slope is significantly positive: a
    speed-up is never extrapolated."""
    start = _stretch_start(points)
    pieces = _pieces(points, start, total)
    if len(pieces) < 6:
        return None
    slope, intercept, t_stat = _weighted_line(pieces)
    if slope <= 0 or t_stat < _SLOWING_T:
        return None
    f = points[-1][1] / total
    left = total * (intercept * (1 - f) + slope * (1 - f * f) / 2)
    return _Model(left, points[-1][0] - points[start][0], 1.0, _SLOWING_DOUBT * (1 - f))


def _weighted_line(pieces: Sequence[Piece]) -> tuple[float, float, float]:
    """Slope, intercept and the slope's t statistic of pace against fraction, weighted by units."""
    sw = sum(w for _, _, w in pieces)
    mx = sum(w * x for x, _, w in pieces) / sw
    my = sum(w * y for _, y, w in pieces) / sw
    sxx = sum(w * (x - mx) ** 2 for x, _, w in pieces)
    if sxx <= 0:
        return 0.0, my, 0.0
    slope = sum(w * (x - mx) * (y - my) for x, y, w in pieces) / sxx
    intercept = my - slope * mx
    residual = sum(w * (y - intercept - slope * x) ** 2 for x, y, w in pieces)
    variance = residual / (len(pieces) - 2) / sxx
    return slope, intercept, slope / math.sqrt(variance) if variance > 0 else math.inf
