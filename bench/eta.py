"""ETA replay: thereyet's estimator against the progress bars people use, on known endings.

    python bench/eta.py [--seeds 1-10] [--runs 5] [--observe-calls 200000]

For every seed it builds the suite in bench/_eta_traces.py (eight shapes of
work, `--runs` jobs each, every job with the durations of its five earlier
runs as history), replays each run's reports into every estimator, and scores
the remaining time each one gives when the run first reports 25, 50 and 75 %
done: relative error |estimate - truth| / truth, 1.0 when it gives none. A
shape's score is the median over its runs and checkpoints; "mean" is the mean
of the shapes, "P90" the 90th percentile of all checkpoints. It prints the
table per seed, the averages over the seeds, how often thereyet's range held
the truth, the largest state it kept, and the cost of one `observe` against
the moving average it replaces (the hub calls it for every progress event).
Exit 1 if the targets of issue #15 are missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _eta_anchors import LinearFromElapsed, RichWindow, ThereyetBefore, TqdmEma
from _eta_traces import SHAPES, TOTAL, Case, cases

from thereyet.eta import Estimator

CHECKPOINTS = (0.25, 0.5, 0.75)


class Estimates(Protocol):
    def observe(self, t: float, done: float) -> None: ...


class ThereyetNow:
    """thereyet.eta.Estimator, answering seconds like the anchors; keeps its ranges."""

    def __init__(self, total: float, history: Sequence[float] = ()) -> None:
        self.estimator = Estimator(total, history)
        self.ranges: list[tuple[float | None, float | None]] = []
        self.biggest_state = 0

    def observe(self, t: float, done: float) -> None:
        self.estimator.observe(t, done)

    def remaining(self, now: float) -> float | None:
        estimate = self.estimator.remaining(now)
        self.ranges.append((estimate.low, estimate.high))
        size = len(json.dumps(self.estimator.to_state(), separators=(",", ":")))
        self.biggest_state = max(self.biggest_state, size)
        return estimate.seconds


ESTIMATORS: dict[str, Callable[..., Any]] = {
    "linear from elapsed (Cronicle)": LinearFromElapsed,
    "tqdm (EMA, smoothing 0.3)": TqdmEma,
    "rich (30 s window)": RichWindow,
    "thereyet before #15": ThereyetBefore,
    "thereyet": ThereyetNow,
}
ANCHORS = list(ESTIMATORS)[:3]


class Tally:
    """Errors per estimator and shape, plus what thereyet's ranges and state did."""

    def __init__(self) -> None:
        self.errors: dict[str, dict[str, list[float]]] = {
            name: {shape: [] for shape in SHAPES} for name in ESTIMATORS
        }
        self.covered = 0
        self.ranged = 0
        self.widths: list[float] = []
        self.biggest_state = 0


def replay(case: Case, name: str, tally: Tally) -> None:
    estimator = ESTIMATORS[name](TOTAL, case.history)
    marks = list(CHECKPOINTS)
    for t, done in case.trace.points[:-1]:
        estimator.observe(t, done)
        while marks and done >= marks[0] * TOTAL:
            marks.pop(0)
            truth = case.trace.end - t
            guess = estimator.remaining(t)
            error = 1.0 if guess is None else abs(guess - truth) / truth
            tally.errors[name][case.shape].append(error)
            if isinstance(estimator, ThereyetNow):
                _note_range(estimator.ranges[-1], truth, tally)
    if isinstance(estimator, ThereyetNow):
        tally.biggest_state = max(tally.biggest_state, estimator.biggest_state)


def _note_range(span: tuple[float | None, float | None], truth: float, tally: Tally) -> None:
    low, high = span
    if low is None or high is None:
        return
    tally.ranged += 1
    tally.covered += low <= truth <= high
    tally.widths.append((high - low) / truth)


def scores(errors: dict[str, list[float]]) -> tuple[dict[str, float], float, float]:
    """Per-shape medians, their mean, and the P90 of all checkpoints."""
    per_shape = {shape: statistics.median(values) for shape, values in errors.items()}
    everything = sorted(e for values in errors.values() for e in values)
    p90 = everything[min(len(everything) - 1, int(0.9 * len(everything)))]
    return per_shape, statistics.fmean(per_shape.values()), p90


def print_table(title: str, rows: dict[str, tuple[dict[str, float], float, float]]) -> None:
    print(f"\n{title}\n")
    print("| estimator | " + " | ".join(SHAPES) + " | mean | P90 |")
    print("|---" * (len(SHAPES) + 3) + "|")
    for name, (per_shape, mean, p90) in rows.items():
        cells = [f"{per_shape[s]:.3f}" for s in SHAPES] + [f"{mean:.3f}", f"{p90:.3f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")


def observe_cost(calls: int) -> tuple[float, float]:
    """Nanoseconds per observe: thereyet's Estimator, and the moving average it replaces."""
    points = [(i * 0.5, i * 1.0) for i in range(calls)]
    best: dict[str, float] = {}
    for _ in range(3):
        for name in ("thereyet", "thereyet before #15"):
            estimator = ESTIMATORS[name](float(calls), [600.0] * 5)
            observe = estimator.observe
            start = time.perf_counter()
            for t, done in points:
                observe(t, done)
            took = (time.perf_counter() - start) / calls * 1e9
            best[name] = min(best.get(name, took), took)
    return best["thereyet"], best["thereyet before #15"]


def parse_seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1-10")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--observe-calls", type=int, default=200_000)
    parser.add_argument("--quiet", action="store_true", help="only the averages")
    args = parser.parse_args()
    seeds = parse_seeds(args.seeds)
    per_seed: dict[str, list[tuple[dict[str, float], float, float]]] = {n: [] for n in ESTIMATORS}
    tally_all = Tally()
    for seed in seeds:
        tally = Tally()
        suite = cases(seed, args.runs)
        for name in ESTIMATORS:
            for case in suite:
                replay(case, name, tally)
        rows = {name: scores(tally.errors[name]) for name in ESTIMATORS}
        for name, row in rows.items():
            per_seed[name].append(row)
        if not args.quiet:
            print_table(f"seed {seed}", rows)
        tally_all.covered += tally.covered
        tally_all.ranged += tally.ranged
        tally_all.widths += tally.widths
        tally_all.biggest_state = max(tally_all.biggest_state, tally.biggest_state)
    return report(seeds, per_seed, tally_all, args.observe_calls)


def report(
    seeds: list[int],
    per_seed: dict[str, list[tuple[dict[str, float], float, float]]],
    tally: Tally,
    calls: int,
) -> int:
    averaged = {
        name: (
            {s: statistics.fmean(r[0][s] for r in rows) for s in SHAPES},
            statistics.fmean(r[1] for r in rows),
            statistics.fmean(r[2] for r in rows),
        )
        for name, rows in per_seed.items()
    }
    print_table(f"averaged over seeds {seeds[0]}-{seeds[-1]}", averaged)
    ours = per_seed["thereyet"]
    worst_mean, worst_p90 = max(r[1] for r in ours), max(r[2] for r in ours)
    print(
        f"\nthereyet, worst seed: mean {worst_mean:.4f} (target 0.05), P90 {worst_p90:.4f} (0.25)"
    )
    ok = worst_mean <= 0.05 and worst_p90 <= 0.25
    for shape in SHAPES:
        best = min(averaged[a][0][shape] for a in ANCHORS)
        gap = averaged["thereyet"][0][shape] - best
        if gap > 0.02:
            ok = False
        print(f"  {shape}: {gap:+.3f} against the best anchor ({best:.3f})")
    if tally.ranged:
        width = statistics.median(tally.widths)
        print(
            f"range held the truth at {tally.covered / tally.ranged:.0%} of checkpoints,"
            f" median width {width:.0%} of the time left"
        )
    print(f"largest state kept: {tally.biggest_state} bytes of JSON")
    ours_ns, before_ns = observe_cost(calls)
    print(
        f"observe: {ours_ns:.0f} ns a call, moving average {before_ns:.0f} ns"
        f" (ratio {ours_ns / before_ns:.2f})"
    )
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
