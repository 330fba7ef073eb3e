"""What a run reports, and how a batch of reports changes the run.

The hub builds one of these per reported event, tens of thousands a second,
so they are plain dataclasses: a frozen one costs three times as much to make.
Treat them as values all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter

from .eta import RateSample, observe_progress, update_rate
from .runs import Run, RunStatus, append_log


@dataclass
class Progress:
    id: str
    ts: datetime
    done: float
    total: float | None = None
    unit: str | None = None
    kind = "progress"


@dataclass
class Log:
    id: str
    ts: datetime
    text: str
    stream: str = "stdout"
    kind = "log"


@dataclass
class Stat:
    id: str
    ts: datetime
    name: str
    value: float | str
    unit: str | None = None
    kind = "stat"


@dataclass
class Note:
    """A line said by the run into its rooms ("switching to batch 2")."""

    id: str
    ts: datetime
    text: str
    kind = "note"


@dataclass
class Heartbeat:
    id: str
    ts: datetime
    kind = "heartbeat"


Event = Progress | Log | Stat | Note | Heartbeat

_BY_TIME = attrgetter("ts")


@dataclass
class Applied:
    """What a batch did beyond updating the run's fields."""

    started: bool = False
    resumed: bool = False
    notes: list[Note] = field(default_factory=list)


def apply_events(run: Run, events: Sequence[Event], now: datetime) -> Applied:
    """Fold new events (already de-duplicated) into `run`, in time order.

    Any word from a run is a sign of life; a queued run starts on its first
    report and a lost one comes back. A finished run keeps its status but
    still takes late logs and figures.
    """
    applied = Applied()
    if not events:
        return applied
    ordered = sorted(events, key=_BY_TIME)
    run.heartbeat_at = now if run.heartbeat_at is None else max(run.heartbeat_at, now)
    if run.status is RunStatus.QUEUED:
        run.status = RunStatus.RUNNING
        run.started_at = min(ordered[0].ts, now)
        applied.started = True
    elif run.status is RunStatus.LOST:
        run.status = RunStatus.RUNNING
        applied.resumed = True
    lines: list[str] = []
    progress: list[Progress] = []
    for event in ordered:
        if isinstance(event, Progress):
            progress.append(event)
        elif isinstance(event, Log):
            lines.extend(event.text.splitlines() or [""])
        elif isinstance(event, Stat):
            run.stats[event.name] = event.value
        elif isinstance(event, Note):
            applied.notes.append(event)
    if progress:
        _apply_progress(run, progress, now)
    if lines:
        run.log_tail = append_log(run.log_tail, lines)
    return applied


def _apply_progress(run: Run, samples: list[Progress], now: datetime) -> None:
    """Fold progress samples, in time order, into the run's figures and smoothed rate."""
    last: RateSample | None = None
    if run.progress_at is not None and run.done is not None:
        last = RateSample(done=run.done, at=run.progress_at, rate=run.rate)
    progress_at = run.progress_at
    taken: list[tuple[datetime, float, float | None]] = []
    for event in samples:
        at = min(event.ts, now)
        if progress_at is not None and at < progress_at:
            continue  # an older sample than the one we have: it changes nothing
        taken.append((at, event.done, event.total))
        sample = update_rate(last, event.done, at)
        if sample.done != event.done or sample.at != at:
            # A second sample for the same instant: the run shows what it said last.
            sample = RateSample(done=event.done, at=at, rate=sample.rate)
        last, progress_at = sample, at
        if event.total is not None:
            run.total = event.total
        if event.unit is not None:
            run.unit = event.unit
    if last is not None and progress_at is not None:
        run.done, run.rate, run.progress_at = last.done, last.rate, progress_at
    observe_progress(run, taken)
