"""Runs: their statuses and the rules for moving between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from thereyet.eta import Estimator


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    LOST = "lost"

    @property
    def finished(self) -> bool:
        return self in FINISHED


FINISHED = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})

# A lost run is one the hub stopped hearing from; it may still speak again
# (a heartbeat brings it back to running) or report its end late.
_ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.CANCELLED, *FINISHED}),
    RunStatus.RUNNING: frozenset({RunStatus.LOST, *FINISHED}),
    RunStatus.LOST: frozenset({RunStatus.RUNNING, *FINISHED}),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELLED: frozenset(),
}


class TransitionError(ValueError):
    """A status change the rules do not allow (for example finishing a finished run)."""

    def __init__(self, current: RunStatus, wanted: RunStatus) -> None:
        super().__init__(f"run is already {current.value}; it cannot become {wanted.value}")
        self.current = current
        self.wanted = wanted


def can_move(current: RunStatus, wanted: RunStatus) -> bool:
    return wanted in _ALLOWED[current]


def check_move(current: RunStatus, wanted: RunStatus) -> None:
    """Raise TransitionError unless `current -> wanted` is allowed."""
    if not can_move(current, wanted):
        raise TransitionError(current, wanted)


@dataclass
class Run:
    """What the hub knows of one run; the store loads and saves it, the rules change it."""

    id: str
    job: str
    status: RunStatus
    created_at: datetime
    host: str | None = None
    pid: int | None = None
    user: str | None = None
    trigger: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    done: float | None = None
    total: float | None = None
    unit: str | None = None
    rate: float | None = None
    progress_at: datetime | None = None
    heartbeat_at: datetime | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    log_tail: list[str] = field(default_factory=list)
    exit_code: int | None = None
    error: str | None = None
    node: str | None = None
    # Replaced, never changed in place: runs are copied shallowly and compared.
    eta: Estimator | None = None

    def elapsed(self, now: datetime) -> float | None:
        """Seconds since the run started, up to its end if it has finished."""
        if self.started_at is None:
            return None
        end = self.finished_at or now
        return max(0.0, (end - self.started_at).total_seconds())


LOG_TAIL_LINES = 200
LOG_TAIL_CHARS = 64 * 1024


def append_log(tail: list[str], lines: list[str]) -> list[str]:
    """Return the tail with `lines` added, bounded in lines and characters."""
    merged = (tail + lines)[-LOG_TAIL_LINES:]
    size = 0
    keep = 0
    for line in reversed(merged):
        size += len(line) + 1
        if size > LOG_TAIL_CHARS:
            break
        keep += 1
    return merged[len(merged) - keep :] if keep else []


@dataclass(frozen=True)
class RunFilter:
    """Which runs to list (None or empty: any)."""

    job: str | None = None
    room: str | None = None
    statuses: tuple[RunStatus, ...] = ()
    host: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Limits of the caller's token: only runs of these jobs or in these rooms.
    only_jobs: frozenset[str] | None = None
    only_rooms: frozenset[str] | None = None
