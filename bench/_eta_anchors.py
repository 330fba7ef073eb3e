"""The estimators people use today, re-implemented from their documented behaviour.

Each has `observe(t, done)` (seconds since the start, units done) and
`remaining(now) -> float | None`, like `thereyet.eta.Estimator`, so the replay
treats them all alike. Written for bench/eta.py; not part of the package.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Sequence


class LinearFromElapsed:
    """Cronicle's job page: remaining = elapsed / progress - elapsed.

    It keeps no state but the last report; the elapsed time is taken at `now`."""

    def __init__(self, total: float, history: Sequence[float] = ()) -> None:
        self.total = total
        self.done = 0.0

    def observe(self, t: float, done: float) -> None:
        self.done = done

    def remaining(self, now: float) -> float | None:
        progress = self.done / self.total
        if progress <= 0 or now <= 0:
            return None
        return now / progress - now


class _Ema:
    """tqdm.std.EMA: exponential moving average with bias correction."""

    def __init__(self, smoothing: float) -> None:
        self.alpha = smoothing
        self.last = 0.0
        self.calls = 0

    def __call__(self, x: float | None = None) -> float:
        beta = 1 - self.alpha
        if x is not None:
            self.last = self.alpha * x + beta * self.last
            self.calls += 1
        return self.last / (1 - beta**self.calls) if self.calls else self.last


class TqdmEma:
    """tqdm's rate: EMAs (smoothing 0.3) of the units and seconds between refreshes.

    As in `tqdm.update`, a refresh happens once `mininterval` (0.1 s) has passed,
    and only an interval with both time and units moves the averages; the
    remaining time is (total - n) / (ema_dn / ema_dt)."""

    def __init__(self, total: float, history: Sequence[float] = ()) -> None:
        self.total = total
        self.n = 0.0
        self.last_print_n = 0.0
        self.last_print_t = 0.0
        self.ema_dn = _Ema(0.3)
        self.ema_dt = _Ema(0.3)

    def observe(self, t: float, done: float) -> None:
        self.n = done
        dt = t - self.last_print_t
        if dt < 0.1:
            return
        dn = self.n - self.last_print_n
        if dt and dn:
            self.ema_dn(dn)
            self.ema_dt(dt)
        self.last_print_n, self.last_print_t = self.n, t

    def remaining(self, now: float) -> float | None:
        dt = self.ema_dt()
        rate = self.ema_dn() / dt if dt else None
        if not rate:
            return None
        return (self.total - self.n) / rate


class RichWindow:
    """rich.progress: speed from the samples of the last 30 s (`speed_estimate_period`).

    `Progress.update` drops samples older than the window and appends
    (time, units) when units were added (at most 1000 kept); `Task.speed` sums
    the units of all samples but the first over the span of their times;
    `time_remaining` is ceil(remaining / speed)."""

    def __init__(self, total: float, history: Sequence[float] = ()) -> None:
        self.total = total
        self.completed = 0.0
        self.samples: deque[tuple[float, float]] = deque(maxlen=1000)

    def observe(self, t: float, done: float) -> None:
        added = done - self.completed
        self.completed = done
        while self.samples and self.samples[0][0] < t - 30.0:
            self.samples.popleft()
        if added > 0:
            self.samples.append((t, added))

    def remaining(self, now: float) -> float | None:
        if not self.samples:
            return None
        span = self.samples[-1][0] - self.samples[0][0]
        if span == 0:
            return None
        speed = sum(units for _, units in list(self.samples)[1:]) / span
        if not speed:
            return None
        return float(math.ceil((self.total - self.completed) / speed))


class ThereyetBefore:
    """The hub's estimator before issue #15 (server/domain/eta.py at a37f090), on floats.

    A 30 s time-aware moving average of the rate, silence after 15 s counted as
    time without progress, blended with the median of the history (`typical -
    elapsed`, floored at 5 % of typical) by the fraction done."""

    def __init__(self, total: float, history: Sequence[float] = ()) -> None:
        self.total = total
        usable = [d for d in history[:10] if math.isfinite(d) and d > 0]
        self.typical = statistics.median(usable) if usable else None
        self.done: float | None = None
        self.at = 0.0
        self.rate: float | None = None

    def observe(self, t: float, done: float) -> None:
        if self.done is None or done < self.done:
            self.done, self.at, self.rate = done, t, None
            return
        dt = t - self.at
        if dt <= 0:
            self.done = max(done, self.done)
            return
        instant = (done - self.done) / dt
        if self.rate is None:
            self.rate = instant
        else:
            self.rate += (1.0 - math.exp(-dt / 30.0)) * (instant - self.rate)
        self.done, self.at = done, t

    def remaining(self, now: float) -> float | None:
        by_rate = self._by_rate(now)
        by_history = None
        if self.typical is not None:
            by_history = max(self.typical - now, max(1.0, 0.05 * self.typical))
        if by_rate is None or by_history is None:
            return by_rate if by_history is None else by_history
        weight = min(1.0, max(0.0, (self.done or 0.0) / self.total))
        return weight * by_rate + (1.0 - weight) * by_history

    def _by_rate(self, now: float) -> float | None:
        if self.done is None or not self.rate or self.rate <= 0:
            return None
        if self.done / self.total < 0.01 and self.at < 10.0:
            return None
        quiet = max(0.0, now - self.at)
        silent = max(0.0, quiet - 15.0)
        left = (self.total - self.done) / self.rate * (1.0 + silent / max(self.at, 30.0))
        return max(left - min(quiet, 15.0), 1.0)
