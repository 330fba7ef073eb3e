"""What a glance should read of a job on the jobs page: one word for its state."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    RUNNING = "running"  # its latest run is running or queued
    LATE = "late"  # its schedule's occurrence has not started in time
    MISSED = "missed"  # ... nor within its grace
    FAILED = "failed"  # its latest run failed
    LOST = "lost"  # the hub stopped hearing from its latest run
    OK = "ok"
    NEW = "new"  # no run yet

    @property
    def attention(self) -> bool:
        return self in (JobState.LATE, JobState.MISSED, JobState.FAILED, JobState.LOST)


def job_state(latest: str | None, schedule_state: str | None) -> JobState:
    """The job's state from its latest run's status and its schedule's state.

    A running run says the most (the schedule is being met); then the schedule
    (a routine that did not start matters more than how the last one ended);
    then how the latest run ended."""
    if latest in ("running", "queued"):
        return JobState.RUNNING
    if schedule_state in ("late", "missed"):
        return JobState(schedule_state)
    if latest in ("failed", "lost"):
        return JobState(latest)
    return JobState.NEW if latest is None else JobState.OK
