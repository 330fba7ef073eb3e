"""What a run reports, and how a batch of reports changes the run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .eta import RateSample, update_rate
from .runs import Run, RunStatus, append_log


@dataclass(frozen=True)
class Progress:
    id: str
    ts: datetime
    done: float
    total: float | None = None
    unit: str | None = None
    kind = "progress"


@dataclass(frozen=True)
class Log:
    id: str
    ts: datetime
    text: str
    stream: str = "stdout"
    kind = "log"


@dataclass(frozen=True)
class Stat:
    id: str
    ts: datetime
    name: str
    value: float | str
    unit: str | None = None
    kind = "stat"


@dataclass(frozen=True)
class Note:
    """A line said by the run into its rooms ("switching to batch 2")."""

    id: str
    ts: datetime
    text: str
    kind = "note"


@dataclass(frozen=True)
class Heartbeat:
    id: str
    ts: datetime
    kind = "heartbeat"


Event = Progress | Log | Stat | Note | Heartbeat


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
    ordered = sorted(events, key=lambda e: e.ts)
    run.heartbeat_at = now if run.heartbeat_at is None else max(run.heartbeat_at, now)
    if run.status is RunStatus.QUEUED:
        run.status = RunStatus.RUNNING
        run.started_at = min(ordered[0].ts, now)
        applied.started = True
    elif run.status is RunStatus.LOST:
        run.status = RunStatus.RUNNING
        applied.resumed = True
    lines: list[str] = []
    for event in ordered:
        if isinstance(event, Progress):
            _apply_progress(run, event, now)
        elif isinstance(event, Log):
            lines.extend(event.text.splitlines() or [""])
        elif isinstance(event, Stat):
            run.stats[event.name] = event.value
        elif isinstance(event, Note):
            applied.notes.append(event)
    if lines:
        run.log_tail = append_log(run.log_tail, lines)
    return applied


def _apply_progress(run: Run, event: Progress, now: datetime) -> None:
    at = min(event.ts, now)
    if run.progress_at is not None and at < run.progress_at:
        return  # an older sample than the one we have: it changes nothing
    prev = None
    if run.progress_at is not None and run.done is not None:
        prev = RateSample(done=run.done, at=run.progress_at, rate=run.rate)
    sample = update_rate(prev, event.done, at)
    run.done = event.done
    run.rate = sample.rate
    run.progress_at = at
    if event.total is not None:
        run.total = event.total
    if event.unit is not None:
        run.unit = event.unit
