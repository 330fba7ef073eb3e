"""Retention: each job keeps its latest runs (with their events and pings) and job events.

A check pinged every minute makes half a million runs a year. The hub keeps
the newest `keep_runs` runs of each job (THEREYET_KEEP_RUNS, 0 keeps all) and
as many job events; older finished runs go with their events, rooms and
attachments. Unfinished runs are never pruned. Room messages are the room's
history and stay.

Pruning walks the jobs a slice at a time in the writer, each step bounded in
jobs and rows, so it never holds up the pings and reports around it; after a
pass over every job it rests. Several hub nodes may prune at once: deleting
what another node already deleted changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..hub import Hub
from ..store import pings as store
from ..store.writer import Tx

JOBS_PER_STEP = 200
ROWS_PER_STEP = 2000
REST = timedelta(minutes=10)


@dataclass(frozen=True)
class Pruned:
    """What one step removed, and whether it finished a pass over every job."""

    rows: int
    pass_done: bool


class RetentionService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._after_job = 0  # where the current pass has got to
        self._rest_until: datetime | None = None

    async def step(self, now: datetime) -> Pruned:
        """Prune one slice of jobs, unless resting after a pass (or keep_runs is 0)."""
        keep = self.hub.settings.keep_runs
        if keep <= 0 or (self._rest_until is not None and now < self._rest_until):
            return Pruned(0, False)
        after = self._after_job

        def write(tx: Tx) -> tuple[int, int | None]:
            return _prune_slice(tx, after, keep)

        rows, reached = await self.hub.writer.run(write)
        if reached is None:  # no job after `after`: the pass is over
            self._after_job, self._rest_until = 0, now + REST
            return Pruned(rows, True)
        self._after_job = reached
        return Pruned(rows, False)


def _prune_slice(tx: Tx, after: int, keep: int) -> tuple[int, int | None]:
    """Prune jobs after `after`; the rows removed and the last job done (None: none left)."""
    job_ids = store.jobs_after(tx.conn, after, JOBS_PER_STEP)
    rows = 0
    for job_id in job_ids:
        budget = ROWS_PER_STEP - rows
        old = store.old_runs(tx.conn, job_id, keep, budget)
        store.delete_runs(tx.conn, old)
        rows += len(old)
        rows += store.prune_job_events(tx.conn, job_id, keep, ROWS_PER_STEP - rows)
        if rows >= ROWS_PER_STEP:
            return rows, job_id - 1  # this job may have more: the next step starts with it
    return rows, (job_ids[-1] if job_ids else None)
