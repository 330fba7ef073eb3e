"""The monitor's step: load what is watched, ask the rules, apply what they say.

Each transition is claimed first (a conditional UPDATE of the job or run it
is about), so with several hub nodes exactly one of them records it; the
winner then writes, in the same transaction, the job or run event, the card
in the rooms and the outbox rows of the notifications.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from .. import faults
from ..domain import monitoring as rules
from ..domain.access import SYSTEM
from ..domain.monitoring import JobChange, JobWatch, RunWatch, ScheduleState, Transition
from ..domain.runs import RunStatus
from ..domain.schedules import ScheduleError
from ..hub import Hub
from ..store import monitoring as store
from ..store import pings as ping_store
from ..store import rooms as room_store
from ..store import runs as run_store
from ..store.writer import Tx
from .notifications import Note, notify_many
from .rooms import post_in_rooms
from .runs import RunService
from .schedules import limits_of, schedule_of

MAX_JOBS_PER_TICK = 500


class Said(NamedTuple):
    """A transition claimed, to be told: a job event, cards in the rooms, notifications."""

    job_id: int
    job: str
    run_id: str | None
    transition: Transition
    card: str
    extra: Mapping[str, datetime | None]


class MonitorService:
    def __init__(self, hub: Hub, runs: RunService) -> None:
        self.hub = hub
        self.runs = runs
        # Called in the same transaction with the transitions told together, each as
        # (job, run id or None, transition) (incidents listen here).
        self.transition_hooks: list[Callable[[Tx, list[tuple[str, str | None, str]]], None]] = []

    async def step(self, now: datetime) -> int:
        """Apply every transition due at `now`; return how many were recorded."""
        said = await self.hub.writer.run(lambda tx: self._jobs(tx, now) + self._runs(tx, now))
        if said:
            faults.reached("monitor.after_claim")
        return said

    # -- jobs waiting for a start ------------------------------------------------------

    def _jobs(self, tx: Tx, now: datetime) -> int:
        watched = store.watched_jobs(tx.conn, now, MAX_JOBS_PER_TICK)
        return self._look_at_jobs(tx, [(row, now) for row in watched])

    def on_late_starts(self, tx: Tx, found: list[tuple[Any, datetime]]) -> None:
        """A ScheduleService hook: runs of these jobs (rows) started at these times, past
        the deadline of the occurrence each job waited for, before any node said that
        one was missed (a ping at the next occurrence often comes before the monitor's
        look). The misses are said now, claimed as the monitor claims them: once."""
        self._look_at_jobs(tx, found)

    def _look_at_jobs(self, tx: Tx, found: list[tuple[Any, datetime]]) -> int:
        """Claim and say what is due for jobs waiting for a start, each (row) at its own
        time: the claims in one statement, what they say told together. Return how many
        transitions were said (none for a job another node claimed first)."""
        claims: list[store.JobClaim] = []
        changes: dict[int, tuple[Any, datetime, JobChange, JobWatch]] = {}
        for row, now in found:
            try:
                schedule = schedule_of(row)
            except ScheduleError:
                schedule = None
            if schedule is None or row.due_at is None:
                store.update_job(tx.conn, row.id, alert_at=None)
                continue
            state = ScheduleState(row.schedule_state or ScheduleState.OK.value)
            watch = JobWatch(row.name, schedule, limits_of(row), row.due_at, state)
            change = rules.job_change(now, watch)
            if change is None:  # looked too early (clock skew between nodes): look again later
                alert = rules.alert_at(schedule, watch.limits, row.due_at, state)
                claims.append(self._claim(row, row.due_at, row.schedule_state, alert))
                continue
            state_value = change.new_state.value
            claims.append(self._claim(row, change.new_due_at, state_value, change.new_alert_at))
            changes[row.id] = (row, now, change, watch)
        claimed = store.claim_job_changes(tx.conn, claims)
        said = [
            Said(
                row.id,
                row.name,
                None,
                transition,
                rules.transition_card(
                    row.name, transition, now=now, due_at=change.due_at, limits=watch.limits
                ),
                {"due_at": change.due_at},
            )
            for job_id, (row, now, change, watch) in changes.items()
            if job_id in claimed
            for transition in change.transitions
        ]
        self._tell(tx, said)
        return len(said)

    @staticmethod
    def _claim(
        row: Any, due_at: datetime, state: str | None, alert_at: datetime | None
    ) -> store.JobClaim:
        return store.JobClaim(row.id, row.alert_at, row.schedule_state, due_at, state, alert_at)

    # -- unfinished runs ---------------------------------------------------------------

    def _runs(self, tx: Tx, now: datetime) -> int:
        said = 0
        for row in store.watched_runs(tx.conn):
            watch = _run_watch(row)
            change = rules.run_change(now, watch)
            if change is None:
                continue
            seen: dict[str, Any] = {"status": row.status}
            seen.update({flag: getattr(row, flag) for flag in change.flags})
            if not store.claim_run_flags(
                tx.conn, row.id, seen, {**change.flags, "updated_at": tx.now}
            ):
                continue
            for transition in change.transitions:
                self._apply_run(tx, now, row, watch, transition)
                said += 1
        return said

    def _apply_run(
        self, tx: Tx, now: datetime, row: Any, watch: RunWatch, transition: Transition
    ) -> None:
        run_store.insert_events(
            tx.conn,
            [
                {
                    "run_id": row.id,
                    "event_id": f"monitor-{transition.value}-{uuid.uuid4().hex}",
                    "kind": "monitor",
                    "ts": tx.now,
                    "data": {"transition": transition.value},
                }
            ],
        )
        if transition is Transition.LOST:
            # The status change posts its own card and notification (status hooks).
            store.insert_job_event(
                tx.conn, row.job_id, kind="lost", ts=tx.now, data={}, run_id=row.id
            )
            self.runs.mark_lost(tx, row.id)
            return
        since = watch.progress_at or watch.started_at or watch.created_at
        card = rules.transition_card(
            row.job, transition, now=now, due_at=watch.due_at, limits=watch.limits, since=since
        )
        extra = {"due_at": watch.due_at} if watch.due_at else {}
        self._tell(tx, [Said(row.job_id, row.job, row.id, transition, card, extra)])
        if transition is Transition.MISSED:
            self.runs.finish_in(
                tx, SYSTEM, row.id, RunStatus.CANCELLED, error="missed: it did not start in time"
            )

    # -- saying it -----------------------------------------------------------------------

    def _tell(self, tx: Tx, said: list[Said]) -> None:
        """For each transition: a job event, a card in its rooms and the notifications;
        each kind of row read or written once for them all (a card and a notification
        are written one by one, for the jobs that have rooms or routes)."""
        if not said:
            return
        store.insert_job_events(
            tx.conn,
            [
                {
                    "job_id": s.job_id,
                    "run_id": s.run_id,
                    "kind": s.transition.value,
                    "ts": tx.now,
                    "data": {k: v.isoformat() if v else None for k, v in s.extra.items()},
                }
                for s in said
            ],
        )
        of_jobs = room_store.rooms_of_jobs(tx.conn, [s.job_id for s in said if not s.run_id])
        room_ids = [
            run_store.run_room_ids(tx.conn, s.run_id) if s.run_id else of_jobs[s.job_id]
            for s in said
        ]
        names = ping_store.room_names(tx.conn, [r for ids in room_ids for r in ids])
        for s, ids in zip(said, room_ids, strict=True):
            data = {"job": s.job, "run_id": s.run_id, "transition": s.transition.value}
            post_in_rooms(
                tx, self.hub, ids, author="thereyet", kind="alert", body=s.card, data=data
            )
        notify_many(
            tx,
            [
                Note(s.transition.value, s.job, {names[r] for r in ids}, s.card, s.run_id)
                for s, ids in zip(said, room_ids, strict=True)
            ],
        )
        for hook in self.transition_hooks:
            hook(tx, [(s.job, s.run_id, s.transition.value) for s in said])


def _run_watch(row: Any) -> RunWatch:
    try:
        schedule = schedule_of(row)
    except ScheduleError:
        schedule = None
    return RunWatch(
        run_id=row.id,
        job=row.job,
        status=RunStatus(row.status),
        created_at=row.created_at,
        limits=limits_of(row),
        started_at=row.started_at,
        progress_at=row.progress_at,
        heartbeat_at=row.heartbeat_at,
        due_at=row.due_at,
        late_at=row.late_at,
        stalled_at=row.stalled_at,
        overdue_at=row.overdue_at,
        schedule=schedule,
    )
