"""Progress traces with known end times, for the ETA replay (bench/eta.py).

Each shape is a kind of job. A job has its own parameters (size, speed, where
its phases change); each of its runs varies around them (the machine's speed
that day, the items it met). A case is one run to replay plus the durations of
the job's five earlier runs, newest first, the history a hub would have.
Everything is drawn from `random.Random(seed)`, so a seed is the same suite
on every machine.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

TOTAL = 10_000.0
HISTORY_RUNS = 5


@dataclass
class Trace:
    """What one run reported: (seconds since start, done) pairs, and when it ended."""

    points: list[tuple[float, float]]
    end: float


@dataclass
class Case:
    shape: str
    trace: Trace
    history: list[float]


Job = dict[str, float]
Rate = Callable[[float, float], float]  # (fraction done, seconds) -> units/second


def _run(
    rate: Rate, rnd: random.Random, *, every: float = 2.0, noise: float = 0.03, bursty: bool = False
) -> Trace:
    """Integrate `rate` in small steps, reporting every `every` seconds (jittered)."""
    t, done, points = 0.0, 0.0, [(0.0, 0.0)]
    step = 1.0
    next_report = _gap(every, bursty, rnd)
    wobble = 1.0
    while done < TOTAL:
        if rnd.random() < 0.05:
            wobble = math.exp(rnd.gauss(0.0, noise))
        speed = rate(done / TOTAL, t) * wobble
        if speed <= 0:
            t += step
            continue
        gain = speed * step
        if done + gain >= TOTAL:
            t += (TOTAL - done) / speed
            done = TOTAL
            break
        t, done = t + step, done + gain
        if t >= next_report:
            points.append((t, done))
            next_report = t + _gap(every, bursty, rnd)
    points.append((t, TOTAL))
    return Trace(points, t)


def _gap(every: float, bursty: bool, rnd: random.Random) -> float:
    """Seconds to the next report: regular give or take a quarter, or irregular (exponential)."""
    return rnd.expovariate(1 / every) if bursty else every * rnd.uniform(0.75, 1.25)


def _steady(job: Job, day: float, rnd: random.Random) -> Trace:
    base = TOTAL / job["seconds"] * day
    return _run(lambda f, t: base, rnd)


def _drifting(job: Job, day: float, rnd: random.Random) -> Trace:
    """The rate wanders (a random walk of its logarithm) over the run."""
    base = TOTAL / job["seconds"] * day
    walk = {"level": 0.0, "at": 0.0}
    spread = 0.3 / math.sqrt(job["seconds"])

    def rate(f: float, t: float) -> float:
        if t - walk["at"] >= 10.0:
            walk["level"] += rnd.gauss(0.0, spread * math.sqrt(t - walk["at"]))
            walk["at"] = t
        return base * math.exp(walk["level"])

    return _run(rate, rnd)


def _slowing_tail(job: Job, day: float, rnd: random.Random) -> Trace:
    """Each unit costs more than the last (an index that grows, a queue of harder items)."""
    base = TOTAL / job["seconds"] * day * (1 + job["slowing"] / 3)
    return _run(lambda f, t: base / (1 + job["slowing"] * f * f), rnd)


def _warm_up(job: Job, day: float, rnd: random.Random) -> Trace:
    """Slow for the first minutes (caches, connections, JIT), then steady."""
    base = TOTAL / job["seconds"] * day
    warm = job["warm"] * job["seconds"]
    return _run(lambda f, t: base * min(1.0, 0.1 + 0.9 * t / warm), rnd)


def _two_phase(job: Job, day: float, rnd: random.Random) -> Trace:
    """The first part of the work at one speed, the rest at another."""
    base = TOTAL / job["seconds"] * day
    first, factor = job["first"], job["factor"]
    return _run(lambda f, t: base * (factor if f < first else 1.0), rnd)


def _stall_and_resume(job: Job, day: float, rnd: random.Random) -> Trace:
    """Steady, then silent for a while (a lock, a full disk), then steady again.

    The history does not stall: the stall is this run's trouble."""
    base = TOTAL / job["seconds"] * day
    at = rnd.uniform(0.05, 0.15)
    length = rnd.uniform(0.1, 0.3) * job["seconds"]
    stall = {"from": None}

    def rate(f: float, t: float) -> float:
        if f < at:
            return base
        if stall["from"] is None:
            stall["from"] = t
        return 0.0 if t < stall["from"] + length else base

    return _run(rate, rnd)


def _bursty(job: Job, day: float, rnd: random.Random) -> Trace:
    """Steady work, but progress arrives in irregular bursts (a commit every 8-30 s on average)."""
    base = TOTAL / job["seconds"] * day
    return _run(lambda f, t: base, rnd, every=job["burst"], bursty=True)


def _heavy_tailed(job: Job, day: float, rnd: random.Random) -> Trace:
    """Items of very unequal cost (log-normal, sigma 1.2), progress after each item."""
    items = int(job["items"])
    unit = TOTAL / items
    mean = job["seconds"] / items / day
    mu = math.log(mean) - 1.2**2 / 2
    t, points = 0.0, [(0.0, 0.0)]
    for i in range(1, items + 1):
        t += rnd.lognormvariate(mu, 1.2)
        points.append((t, i * unit))
    return Trace(points, t)


def _job(shape: str, rnd: random.Random) -> Job:
    job = {"seconds": rnd.uniform(600, 3600)}
    if shape == "slowing tail":
        job["slowing"] = rnd.uniform(1.0, 3.0)
    elif shape == "warm-up":
        job["warm"] = rnd.uniform(0.15, 0.3)
    elif shape == "two-phase":
        job["first"] = rnd.uniform(0.1, 0.2)
        job["factor"] = rnd.choice([rnd.uniform(3, 8), 1 / rnd.uniform(2, 4)])
    elif shape == "bursty reports":
        job["burst"] = rnd.uniform(8, 30)
    elif shape == "heavy-tailed items":
        job["items"] = rnd.choice([500, 1000, 2000])
    return job


SHAPES: dict[str, Callable[[Job, float, random.Random], Trace]] = {
    "steady": _steady,
    "drifting": _drifting,
    "slowing tail": _slowing_tail,
    "warm-up": _warm_up,
    "two-phase": _two_phase,
    "stall & resume": _stall_and_resume,
    "bursty reports": _bursty,
    "heavy-tailed items": _heavy_tailed,
}


def cases(seed: int, runs_per_shape: int = 5) -> list[Case]:
    """The suite for one seed: `runs_per_shape` jobs of every shape, each with its history."""
    rnd = random.Random(seed)
    out = []
    for shape, make in SHAPES.items():
        for _ in range(runs_per_shape):
            job = _job(shape, rnd)
            days = [math.exp(rnd.gauss(0.0, 0.1)) for _ in range(HISTORY_RUNS + 1)]
            # Earlier runs of a stalling job did not stall: replay them as steady.
            earlier = _steady if shape == "stall & resume" else make
            history = [earlier(job, day, rnd).end for day in days[1:]]
            out.append(Case(shape, make(job, days[0], rnd), history))
    return out
