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
from typing import Any

from .. import faults
from ..domain import monitoring as rules
from ..domain.access import SYSTEM
from ..domain.monitoring import JobWatch, RunWatch, ScheduleState, Transition
from ..domain.runs import RunStatus
from ..domain.schedules import ScheduleError
from ..hub import Hub
from ..store import monitoring as store
from ..store import rooms as room_store
from ..store import runs as run_store
from ..store.writer import Tx
from .notifications import notify_in, room_names
from .rooms import post_in_rooms
from .runs import RunService
from .schedules import limits_of, schedule_of

MAX_JOBS_PER_TICK = 500


class MonitorService:
    def __init__(self, hub: Hub, runs: RunService) -> None:
        self.hub = hub
        self.runs = runs
        # Called in the same transaction for each job/run transition (incidents listen here).
        self.transition_hooks: list[Callable[[Tx, str, str | None, str], None]] = []

    async def step(self, now: datetime) -> int:
        """Apply every transition due at `now`; return how many were recorded."""
        said = await self.hub.writer.run(lambda tx: self._jobs(tx, now) + self._runs(tx, now))
        if said:
            faults.reached("monitor.after_claim")
        return said

    # -- jobs waiting for a start ------------------------------------------------------

    def _jobs(self, tx: Tx, now: datetime) -> int:
        watched = store.watched_jobs(tx.conn, now, MAX_JOBS_PER_TICK)
        return sum(self._job(tx, now, row) for row in watched)

    def _job(self, tx: Tx, now: datetime, row: Any) -> int:
        """Claim and say what is due at `now` for one job waiting for a start; return how
        many transitions it said (none if another node claimed them first)."""
        try:
            schedule = schedule_of(row)
        except ScheduleError:
            schedule = None
        if schedule is None or row.due_at is None:
            store.update_job(tx.conn, row.id, alert_at=None)
            return 0
        state = ScheduleState(row.schedule_state or ScheduleState.OK.value)
        watch = JobWatch(row.name, schedule, limits_of(row), row.due_at, state)
        change = rules.job_change(now, watch)
        if change is None:  # looked too early (clock skew between nodes): look again later
            store.claim_job_change(
                tx.conn,
                row.id,
                seen_alert_at=row.alert_at,
                seen_state=row.schedule_state,
                alert_at=rules.alert_at(schedule, watch.limits, row.due_at, state),
            )
            return 0
        claimed = store.claim_job_change(
            tx.conn,
            row.id,
            seen_alert_at=row.alert_at,
            seen_state=row.schedule_state,
            due_at=change.new_due_at,
            schedule_state=change.new_state.value,
            alert_at=change.new_alert_at,
        )
        if not claimed:
            return 0
        for transition in change.transitions:
            card = rules.transition_card(
                row.name, transition, now=now, due_at=change.due_at, limits=watch.limits
            )
            self._tell(tx, row.id, row.name, None, transition, card, {"due_at": change.due_at})
        return len(change.transitions)

    def on_late_start(self, tx: Tx, row: Any, start: datetime) -> None:
        """A ScheduleService hook: a run of `row`'s job started at `start`, past the
        deadline of the occurrence the job waited for, before any node said that one was
        missed (a ping at the next occurrence often comes before the monitor's look).
        The miss is said now, claimed as the monitor claims it, so it is said once."""
        self._job(tx, start, row)

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
        self._tell(tx, row.job_id, row.job, row.id, transition, card, extra)
        if transition is Transition.MISSED:
            self.runs.finish_in(
                tx, SYSTEM, row.id, RunStatus.CANCELLED, error="missed: it did not start in time"
            )

    # -- saying it -----------------------------------------------------------------------

    def _tell(
        self,
        tx: Tx,
        job_id: int,
        job: str,
        run_id: str | None,
        transition: Transition,
        card: str,
        extra: Mapping[str, datetime | None],
    ) -> None:
        """A job event, a card in the rooms and the notifications, for one transition."""
        data = {k: v.isoformat() if v else None for k, v in extra.items()}
        store.insert_job_event(
            tx.conn, job_id, kind=transition.value, ts=tx.now, data=data, run_id=run_id
        )
        room_ids = (
            run_store.run_room_ids(tx.conn, run_id)
            if run_id
            else room_store.job_room_ids(tx.conn, job_id)
        )
        post_in_rooms(
            tx,
            self.hub,
            room_ids,
            author="thereyet",
            kind="alert",
            body=card,
            data={"job": job, "run_id": run_id, "transition": transition.value},
        )
        notify_in(
            tx,
            event=transition.value,
            job=job,
            rooms=room_names(tx, room_ids),
            text=card,
            run_id=run_id,
        )
        for hook in self.transition_hooks:
            hook(tx, job, run_id, transition.value)


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
