"""Noticing what did not happen: the pure rules of the monitor.

The monitor loads what it watches, calls `job_changes(now, ...)` and
`run_changes(now, ...)`, and applies what they return. Nothing here reads a
clock or a database, so each rule is tested with hand-built state.

A job with a schedule expects a run for each occurrence ("due"):
- not started by due + grace: the job is *late*;
- not started by the start deadline (the next occurrence, unless a shorter
  start_deadline is set): the occurrence is *missed*.

A run with limits is watched while it runs:
- no progress for stall_after: *stalled*; progress again: *recovered*;
- running longer than max_duration: *overdue*;
- no word at all (heartbeat) for lost_after: *lost*.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum

from .cards import format_duration
from .runs import RunStatus
from .schedules import Schedule

DEFAULT_GRACE = 60.0


class Transition(StrEnum):
    LATE = "late"
    MISSED = "missed"
    STALLED = "stalled"
    RECOVERED = "recovered"
    OVERDUE = "overdue"
    LOST = "lost"


class ScheduleState(StrEnum):
    OK = "ok"
    LATE = "late"
    MISSED = "missed"


@dataclass(frozen=True)
class Limits:
    """A job's limits in seconds; None means "not watched"."""

    grace: float | None = None
    start_deadline: float | None = None
    max_duration: float | None = None
    stall_after: float | None = None
    lost_after: float | None = None

    @property
    def grace_or_default(self) -> float:
        return DEFAULT_GRACE if self.grace is None else self.grace


# The limits' names, as the job's row and the API name them.
LIMIT_FIELDS = tuple(f.name for f in fields(Limits))


# -- jobs: late and missed occurrences ------------------------------------------------


@dataclass(frozen=True)
class JobWatch:
    """A scheduled job whose runs are started elsewhere (cron on a host, pings)."""

    job: str
    schedule: Schedule
    limits: Limits
    due_at: datetime
    state: ScheduleState


@dataclass(frozen=True)
class JobChange:
    job: str
    transitions: tuple[Transition, ...]
    due_at: datetime  # the occurrence the transitions are about
    new_due_at: datetime
    new_state: ScheduleState
    new_alert_at: datetime


def deadline(schedule: Schedule, limits: Limits, due: datetime) -> datetime:
    """When an occurrence due at `due` counts as missed if no run has started."""
    following = schedule.next_after(due)
    if limits.start_deadline is None:
        return following
    return min(following, due + timedelta(seconds=max(limits.start_deadline, 0.0)))


def alert_at(schedule: Schedule, limits: Limits, due: datetime, state: ScheduleState) -> datetime:
    """When the monitor must next look at a job waiting for the run due at `due`."""
    late = due + timedelta(seconds=limits.grace_or_default)
    if state is ScheduleState.OK:
        return min(late, deadline(schedule, limits, due))
    return deadline(schedule, limits, due)


def open_occurrence(schedule: Schedule, due: datetime, now: datetime) -> datetime:
    """The latest occurrence after `due` that is not in the future, else the next one.

    After a miss the hub waits for the occurrence that is open now, so a run
    starting a moment after its due time still counts for it.
    """
    at = schedule.next_after(due)
    for _ in range(1000):
        following = schedule.next_after(at)
        if following > now:
            return at
        at = following
    return schedule.next_after(now)  # down for ages: start afresh


def job_change(now: datetime, watch: JobWatch) -> JobChange | None:
    """What happens to a job still waiting, at `now`, for the run due at `watch.due_at`.

    Late is said once per occurrence; missed once until a run starts again, so
    a routine that stays down does not page at every occurrence.
    """
    due, limits, schedule = watch.due_at, watch.limits, watch.schedule
    late_at = due + timedelta(seconds=limits.grace_or_default)
    missed_at = deadline(schedule, limits, due)
    if now >= missed_at:
        says = () if watch.state is ScheduleState.MISSED else (Transition.MISSED,)
        new_due = open_occurrence(schedule, due, now)
        return JobChange(
            watch.job,
            says,
            due,
            new_due,
            ScheduleState.MISSED,
            alert_at(schedule, limits, new_due, ScheduleState.MISSED),
        )
    if now >= late_at and watch.state is ScheduleState.OK:
        return JobChange(
            watch.job,
            (Transition.LATE,),
            due,
            due,
            ScheduleState.LATE,
            alert_at(schedule, limits, due, ScheduleState.LATE),
        )
    return None


# -- runs: late, missed, stalled, recovered, overdue, lost ----------------------------


@dataclass(frozen=True)
class RunWatch:
    run_id: str
    job: str
    status: RunStatus
    created_at: datetime
    limits: Limits
    started_at: datetime | None = None
    progress_at: datetime | None = None
    heartbeat_at: datetime | None = None
    due_at: datetime | None = None
    late_at: datetime | None = None
    stalled_at: datetime | None = None
    overdue_at: datetime | None = None
    schedule: Schedule | None = None


@dataclass(frozen=True)
class RunChange:
    run_id: str
    job: str
    transitions: tuple[Transition, ...]
    flags: dict[str, datetime | None] = field(default_factory=dict)


def run_change(now: datetime, watch: RunWatch) -> RunChange | None:
    """What the monitor must change on one unfinished run at `now`, if anything."""
    says: list[Transition] = []
    flags: dict[str, datetime | None] = {}
    if watch.status is RunStatus.QUEUED:
        _queued(now, watch, says, flags)
    elif watch.status in (RunStatus.RUNNING, RunStatus.LOST):
        _running(now, watch, says, flags)
    if not says:
        return None
    return RunChange(watch.run_id, watch.job, tuple(says), flags)


def _queued(
    now: datetime, w: RunWatch, says: list[Transition], flags: dict[str, datetime | None]
) -> None:
    """A run the hub started (a callback) that has not reported yet."""
    if w.due_at is None:
        return
    if w.schedule is not None and now >= deadline(w.schedule, w.limits, w.due_at):
        says.append(Transition.MISSED)
        return
    if w.late_at is None and now >= w.due_at + timedelta(seconds=w.limits.grace_or_default):
        says.append(Transition.LATE)
        flags["late_at"] = now


def _running(
    now: datetime, w: RunWatch, says: list[Transition], flags: dict[str, datetime | None]
) -> None:
    limits = w.limits
    started = w.started_at or w.created_at
    if limits.stall_after is not None:
        last = max(t for t in (w.progress_at, started) if t is not None)
        if w.stalled_at is None and now - last >= timedelta(seconds=limits.stall_after):
            says.append(Transition.STALLED)
            flags["stalled_at"] = now
        elif (
            w.stalled_at is not None and w.progress_at is not None and w.progress_at >= w.stalled_at
        ):
            says.append(Transition.RECOVERED)
            flags["stalled_at"] = None
    if (
        limits.max_duration is not None
        and w.overdue_at is None
        and now - started >= timedelta(seconds=limits.max_duration)
    ):
        says.append(Transition.OVERDUE)
        flags["overdue_at"] = now
    if limits.lost_after is not None and w.status is RunStatus.RUNNING:
        heard = max(t for t in (w.heartbeat_at, w.progress_at, started) if t is not None)
        if now - heard >= timedelta(seconds=limits.lost_after):
            says.append(Transition.LOST)


# -- what the room reads ----------------------------------------------------------------


def transition_card(
    job: str,
    transition: Transition,
    *,
    now: datetime,
    due_at: datetime | None = None,
    limits: Limits | None = None,
    since: datetime | None = None,
) -> str:
    """One line of Markdown for a room: "**nightly-backup** is late: due 03:00 UTC, ..."."""
    name = f"**{_escape(job)}**"
    limits = limits or Limits()
    if transition is Transition.LATE:
        return f"{name} is late: it was due at {_when(due_at, now)} and has not started"
    if transition is Transition.MISSED:
        return f"{name} missed its run due at {_when(due_at, now)}"
    if transition is Transition.STALLED:
        quiet = format_duration((now - since).total_seconds()) if since else "a while"
        return f"{name} is stalled: no progress for {quiet}"
    if transition is Transition.RECOVERED:
        return f"{name} is making progress again"
    if transition is Transition.OVERDUE:
        limit = format_duration(limits.max_duration or 0)
        return f"{name} is overdue: running longer than its limit of {limit}"
    quiet = format_duration((now - since).total_seconds()) if since else "a while"
    return f"{name} is lost: no word for {quiet}"


def _when(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "an unknown time"
    fmt = "%H:%M UTC" if at.date() == now.date() else "%Y-%m-%d %H:%M UTC"
    return at.strftime(fmt)


def _escape(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_[]<>~" else c for c in text)
