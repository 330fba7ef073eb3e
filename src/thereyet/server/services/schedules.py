"""Job schedules, limits and targets; the scheduler's step that starts due routines.

A job whose target is an HTTP callback is started by the hub: at each due
occurrence one node claims it (a conditional UPDATE of the job's due_at),
creates a queued run recording that node, issues a token good for that run
only, and queues the callback in the outbox. The service then reports into
the run with the token.

A job with a schedule and no target is started elsewhere (cron, a CI, a ping):
the hub only waits for it, and the monitor says when it is late or missed.

The run's token ends with the run: when it succeeds, fails or is cancelled the
token is revoked in the same transaction (a lost run keeps it: it may come back).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .. import faults
from ..domain import catch_up as catching_up
from ..domain import leases
from ..domain import monitoring as rules
from ..domain.access import SYSTEM, Principal
from ..domain.agents import TargetError, parse_target
from ..domain.monitoring import LIMIT_FIELDS, Limits, ScheduleState
from ..domain.policy import Action, Resource
from ..domain.runs import Run, RunStatus
from ..domain.schedules import (
    Schedule,
    ScheduleError,
    parse_duration,
    parse_schedule,
    parse_zone,
)
from ..hub import Hub
from ..store import monitoring as store
from ..store import nodes as node_store
from ..store import outbox as outbox_store
from ..store import rooms as room_store
from ..store import runs as run_store
from ..store import tokens as token_store
from ..store.writer import Tx
from .errors import Invalid, NotFound
from .notifications import Delivery, NotificationService
from .public_urls import hub_base_url, ping_url
from .rooms import check_name, post_in_rooms
from .runs import KNOWN_JOBS, NewRun, RunService
from .tokens import RUN_TOKEN_GRACE, issue_run_token, revoke_run_token, run_token_id
from .views import iso

MAX_FIRES_PER_TICK = 500
# Runs are prepared this long before they are due and their callbacks queued
# for the due time itself, so a burst of routines due at the same minute is
# called on time rather than after the hub has created all their runs.
LOOKAHEAD_SECONDS = 3.0


@dataclass(frozen=True)
class JobConfig:
    """What the API may set on a job; None leaves a field as it is."""

    schedule: str | None = None  # "" removes the schedule
    timezone: str | None = None
    limits: dict[str, float | str | None] | None = None
    target: dict[str, Any] | None = None  # {} removes the target
    room: str | None = None
    catch_up: str | None = None  # none | latest | all
    catch_up_limit: int | None = None


def schedule_of(row: Any) -> Schedule | None:
    """The parsed schedule of a job row (None when it has none)."""
    if not row.schedule:
        return None
    return parse_schedule(row.schedule, row.timezone)


def catch_up_of(row: Any) -> catching_up.CatchUp:
    """The job's catch-up policy (latest, and a limit of 10, unless set)."""
    return catching_up.CatchUp(
        row.catch_up or catching_up.DEFAULT_POLICY,
        row.catch_up_limit or catching_up.DEFAULT_LIMIT,
    )


def _check_catch_up(config: JobConfig) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if config.catch_up is not None:
        values["catch_up"] = config.catch_up
    if config.catch_up_limit is not None:
        values["catch_up_limit"] = config.catch_up_limit
    try:
        catching_up.CatchUp(
            config.catch_up or catching_up.DEFAULT_POLICY,
            catching_up.DEFAULT_LIMIT if config.catch_up_limit is None else config.catch_up_limit,
        ).check()
    except catching_up.CatchUpError as exc:
        raise Invalid(str(exc), field=exc.field) from exc
    return values


def _schedule(row: Any) -> Schedule:
    """The schedule of a job known to have one."""
    schedule = schedule_of(row)
    assert schedule is not None
    return schedule


def _watch_after_start(row: Any, start: datetime) -> dict[str, Any]:
    """The due and alert times of a job waited for, once a run of it started at `start`."""
    schedule = _schedule(row)
    due = schedule.next_after(start)
    alert = rules.alert_at(schedule, limits_of(row), due, ScheduleState.OK)
    return {"due_at": due, "alert_at": alert, "schedule_state": ScheduleState.OK.value}


def limits_of(row: Any) -> Limits:
    return Limits(**{name: getattr(row, name) for name in LIMIT_FIELDS})


def seconds(value: float | str | None, field: str) -> float | None:
    """A limit given as seconds or as "10m"; None clears it."""
    if value is None:
        return None
    try:
        result = float(value) if isinstance(value, int | float) else parse_duration(value)
    except ScheduleError as exc:
        raise Invalid(str(exc), field=field) from exc
    if not 0 <= result <= 366 * 86400:
        raise Invalid("must be between 0 and 366 days", field=field)
    return result


def _check_target(target: dict[str, Any]) -> dict[str, Any]:
    if target.get("kind") == "agent":
        try:
            return parse_target(target).as_dict()
        except TargetError as exc:
            raise Invalid(f"{exc.field} {exc}", field=exc.field) from exc
    if target.get("kind") != "http":
        raise Invalid("target.kind must be 'http' or 'agent'", field="target.kind")
    url = str(target.get("url") or "")
    if not url.startswith(("http://", "https://")):
        raise Invalid("target.url must be an http:// or https:// URL", field="target.url")
    headers = target.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise Invalid("target.headers must map names to strings", field="target.headers")
    return {"kind": "http", "url": url, "headers": headers}


def _target_view(target: dict[str, Any] | None) -> dict[str, Any] | None:
    """The target as its readers see it: a callback's header names, not their values."""
    if not target:
        return None
    if target["kind"] != "http":
        return dict(target)
    return {"kind": "http", "url": target["url"], "headers": sorted(target["headers"])}


# Starts a run of a job whose target is of another kind than an HTTP callback:
# (tx, job row, due time, trigger) -> the run's id. Agents register "agent".
Starter = Callable[[Tx, Any, datetime, str], str]


class ScheduleService:
    def __init__(self, hub: Hub, runs: RunService, notifications: NotificationService) -> None:
        self.hub = hub
        self.runs = runs
        runs.status_hooks.append(self.on_run_status)
        runs.status_hooks.append(self.on_run_end)
        runs.grouped_status_hooks[self.on_run_status] = self.on_runs_status
        runs.grouped_status_hooks[self.on_run_end] = self.on_runs_end
        notifications.callback_failed.append(self.on_callback_failed)
        # Told how late (seconds after its due time) each routine was started: metrics.
        self.on_started: Callable[[float], None] | None = None
        # Told of starts past the deadline of the occurrence their jobs waited for, when
        # no node has said yet that it was missed (the monitor says it): (row, start)s.
        self.on_late_starts: Callable[[Tx, list[tuple[Any, datetime]]], None] | None = None
        self.starters: dict[str, Starter] = {}

    # -- configuration ------------------------------------------------------------------

    async def configure(self, name: str, config: JobConfig) -> dict[str, Any]:
        """Set a job's schedule, limits and target (creating the job if new)."""
        check_name(name, "name")
        if config.room is not None:
            check_name(config.room, "room")
        limits = {k: seconds(v, f"limits.{k}") for k, v in (config.limits or {}).items()}
        if bad := [k for k in limits if k not in LIMIT_FIELDS]:
            raise Invalid(f"unknown limit {bad[0]!r}", field=f"limits.{bad[0]}")
        target = None if not config.target else _check_target(config.target)
        catch_up = _check_catch_up(config)
        try:
            if config.timezone is not None:
                parse_zone(config.timezone)
        except ScheduleError as exc:
            raise Invalid(str(exc), field="timezone") from exc

        def write(tx: Tx) -> dict[str, Any]:
            job_id = room_store.ensure_job(tx.conn, name, tx.now)
            if config.room is not None:
                room = room_store.ensure_room(tx.conn, config.room, tx.now)
                room_store.add_job_room(tx.conn, job_id, room)
            row = store.job_row_by_id(tx.conn, job_id)
            values: dict[str, Any] = {**limits, **catch_up}
            if config.timezone is not None:
                values["timezone"] = config.timezone or None
            if config.schedule is not None:
                values["schedule"] = " ".join(config.schedule.split()) or None
            if config.target is not None:
                values["target"] = target
            if row.ping_uuid is None:
                values["ping_uuid"] = str(uuid.uuid4())
            merged = {**row._mapping, **values}
            values.update(self._watch_from(merged, tx.now))
            store.update_job(tx.conn, job_id, **values)
            return self._view(tx.conn, store.job_row_by_id(tx.conn, job_id), tx.now)

        return await self.hub.writer.run(write)

    def _watch_from(self, job: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The due and alert times a job (re)configured at `now` starts with."""
        if not job["schedule"]:
            return {"due_at": None, "alert_at": None, "schedule_state": None}
        try:
            schedule = parse_schedule(job["schedule"], job["timezone"])
        except ScheduleError as exc:
            raise Invalid(str(exc), field="schedule") from exc
        due = schedule.next_after(now)
        if job["target"]:
            return {"due_at": due, "alert_at": None, "schedule_state": ScheduleState.OK.value}
        limits = Limits(**{k: job[k] for k in LIMIT_FIELDS})
        alert = rules.alert_at(schedule, limits, due, ScheduleState.OK)
        return {"due_at": due, "alert_at": alert, "schedule_state": ScheduleState.OK.value}

    def get(self, who: Principal, name: str) -> dict[str, Any]:
        """A job's schedule, limits, state and recent events, as `who` may see them.

        Its target (whose URL may carry a secret) is shown only to those who may
        configure the job, and its ping URL, a write credential, only to those who
        may write the job (never to share links, readers or run tokens)."""
        with self.hub.engines.read.connect() as conn:
            row = store.job_row(conn, name)
            if row is None:
                raise NotFound(f"no job named {name!r}")
            rooms = room_store.job_room_names(conn, row.id)
            if not who.may(Resource.JOB_SETTINGS, Action.READ, job=name, rooms=rooms):
                raise NotFound(f"no job named {name!r}")
            view = self._view(conn, row, self.hub.clock.now())
        if not who.may(Resource.JOB_SETTINGS, Action.MANAGE, job=name, rooms=rooms):
            view.pop("target", None)
        if not who.may(Resource.PING_URLS, Action.READ, job=name, rooms=rooms):
            view.pop("ping_url", None)
        return view

    def _view(self, conn: Any, row: Any, now: datetime) -> dict[str, Any]:
        schedule = schedule_of(row)
        upcoming: list[str | None] = []
        if schedule is not None:
            at = now
            for _ in range(3):
                at = schedule.next_after(at)
                upcoming.append(iso(at))
        target = row.target
        events = store.list_job_events(conn, row.id, 20)
        return {
            "name": row.name,
            "schedule": row.schedule,
            "timezone": row.timezone or "UTC",
            "limits": {name: getattr(row, name) for name in LIMIT_FIELDS},
            "target": _target_view(target),
            "catch_up": {"policy": catch_up_of(row).policy, "limit": catch_up_of(row).limit},
            "ping_url": ping_url(hub_base_url(conn, self.hub.settings), row.ping_uuid),
            "state": row.schedule_state,
            "due_at": iso(row.due_at),
            "next": upcoming,
            "events": [
                {"kind": e.kind, "ts": iso(e.ts), "run_id": e.run_id, **e.data} for e in events
            ],
        }

    # -- a run started: the occurrence it was waited for is done ------------------------

    def on_run_status(self, tx: Tx, run: Run, room_ids: list[int], was: RunStatus | None) -> None:
        """A RunService status hook: a start satisfies a job started elsewhere."""
        if run.status is not RunStatus.RUNNING or was is RunStatus.LOST:
            return
        row = store.job_row(tx.conn, run.job)
        if row is None or not row.schedule or row.target:
            return
        start = run.started_at or tx.now
        self._say_unsaid_misses(tx, [(row, start)])
        store.update_job(tx.conn, row.id, **_watch_after_start(row, start))

    def _say_unsaid_misses(self, tx: Tx, starts: list[tuple[Any, datetime]]) -> None:
        """Before starts move their jobs on, (job row, start) each: those past the
        deadline of the occurrence their job waited for, when no node said that one was
        missed, have it said."""
        deadlines: dict[tuple[Any, ...], datetime] = {}  # worked out once for a burst
        late = []
        for row, start in starts:
            if row.due_at is None or row.schedule_state == ScheduleState.MISSED.value:
                continue
            limits = limits_of(row)
            key = (row.schedule, row.timezone, row.due_at, limits)
            if key not in deadlines:
                deadlines[key] = rules.deadline(_schedule(row), limits, row.due_at)
            if start >= deadlines[key]:
                late.append((row, start))
        if late and self.on_late_starts is not None:
            self.on_late_starts(tx, late)

    def on_run_end(self, tx: Tx, run: Run, room_ids: list[int], was: RunStatus | None) -> None:
        """A RunService status hook: a run that has ended no longer needs its token."""
        if run.status.finished:
            revoke_run_token(tx, run.id)

    def on_runs_status(
        self, tx: Tx, changes: list[tuple[Run, list[int], RunStatus | None]]
    ) -> None:
        """on_run_status for a group of changes: the jobs are read in one statement and
        written in one executemany, and a schedule's next occurrence is worked out once
        for all the runs of the group that started at the same time."""
        known = tx.memo.get(KNOWN_JOBS, {})
        started = [
            r
            for r, _, was in changes
            if r.status is RunStatus.RUNNING
            and was is not RunStatus.LOST
            and (r.job not in known or known[r.job].scheduled)
        ]
        if not started:
            return
        # A group of pings read its scheduled checks' schedules already; others are read.
        rows: dict[str, Any] = {
            r.job: known[r.job].watch for r in started if r.job in known and known[r.job].watch
        }
        unread = sorted({r.job for r in started} - set(rows))
        if unread:
            rows.update((row.name, row) for row in store.jobs_by_names(tx.conn, unread))
        worked_out: dict[tuple[Any, ...], dict[str, Any]] = {}
        updates = []
        first_starts: dict[int, tuple[Any, datetime]] = {}  # each job's, as read
        for run in started:
            row = rows.get(run.job)
            if row is None or not row.schedule or row.target:
                continue
            start = run.started_at or tx.now
            first_starts.setdefault(row.id, (row, start))
            key = (row.schedule, row.timezone, start, *[getattr(row, n) for n in LIMIT_FIELDS])
            if key not in worked_out:
                worked_out[key] = _watch_after_start(row, start)
            updates.append({"p_id": row.id, **worked_out[key]})
        self._say_unsaid_misses(tx, list(first_starts.values()))
        store.set_jobs_watch(tx.conn, updates)

    def on_runs_end(self, tx: Tx, changes: list[tuple[Run, list[int], RunStatus | None]]) -> None:
        """on_run_end for a group of changes, in one statement. Only runs the hub
        started itself (start_in) were given a token: not those pings made."""
        ended = [
            run_token_id(r.id) for r, _, _ in changes if r.status.finished and r.trigger != "ping"
        ]
        token_store.revoke_tokens(tx.conn, ended, tx.now + RUN_TOKEN_GRACE)

    # -- the scheduler's step ----------------------------------------------------------

    async def fire_due(self, now: datetime) -> int:
        """Start every routine due by `now` that no other node started; return how many."""
        return await self.hub.writer.run(lambda tx: self._fire_due(tx, now))

    def _fire_due(self, tx: Tx, now: datetime) -> int:
        """Start, in order, every occurrence due by the look-ahead horizon; what a hub
        that was down missed is started or skipped by the job's catch-up policy."""
        started = 0
        horizon = now + timedelta(seconds=LOOKAHEAD_SECONDS)
        # Occurrences due while a node ran are late, never missed, however late.
        up_since = node_store.up_since(tx.conn, leases.lapsed_before(now))
        for row in store.due_started_jobs(tx.conn, horizon, MAX_FIRES_PER_TICK):
            try:
                schedule = schedule_of(row)
            except ScheduleError:
                continue
            if schedule is None:
                continue
            room = MAX_FIRES_PER_TICK - started
            plan = catching_up.plan(
                schedule, row.due_at, now, horizon, catch_up_of(row), room, up_since
            )
            # One conditional UPDATE moves the job past every planned occurrence: the
            # node whose UPDATE changed the row starts them, in this same transaction.
            if not store.claim_occurrence(tx.conn, row.id, row.due_at, plan.next_due):
                continue
            for due in plan.start:
                self.start_in(tx, row, due)
                if self.on_started is not None:
                    self.on_started(max(0.0, (tx.now - due).total_seconds()))
            started += len(plan.start)
            if plan.skipped:
                self._tell_skipped(tx, row, plan)
            if started >= MAX_FIRES_PER_TICK:
                break
        if started:
            tx.after_commit(lambda: faults.reached("scheduler.after_claim"))
        return started

    def _tell_skipped(self, tx: Tx, row: Any, plan: catching_up.Plan) -> None:
        """A job event and a card: occurrences missed while no hub ran, not started."""
        policy = catch_up_of(row).policy
        data = {
            "count": plan.skipped,
            "first": iso(plan.first_skipped),
            "last": iso(plan.last_skipped),
            "catch_up": policy,
        }
        store.insert_job_event(tx.conn, row.id, kind="skipped", ts=tx.now, data=data)
        many = "occurrence was" if plan.skipped == 1 else "occurrences were"
        card = (
            f"**{row.name}**: {plan.skipped} {many} not started, from {data['first']} "
            f"to {data['last']}: no hub was running then (catch-up: {policy})"
        )
        post_in_rooms(
            tx,
            self.hub,
            room_store.job_room_ids(tx.conn, row.id),
            author="thereyet",
            kind="alert",
            body=card,
            data={"job": row.name, "transition": "skipped"},
        )

    def start_in(self, tx: Tx, row: Any, due: datetime, trigger: str = "schedule") -> str:
        """Within `tx`: create the job's queued run and queue the call to its target.

        Return the run's id. The scheduler uses it for due occurrences; `!run` for
        starts on demand (trigger "chat"). A target of another kind (agents) is
        started by the starter registered for its kind."""
        starter = self.starters.get(row.target["kind"])
        if starter is not None:
            return starter(tx, row, due, trigger)
        view, _ = self.runs.create_in(
            tx, NewRun(job=row.name, status=RunStatus.QUEUED, trigger=trigger)
        )
        run_id: str = view["id"]
        store.set_run_columns(tx.conn, run_id, due_at=due)
        token = issue_run_token(tx, run_id)
        body = {
            "run_id": run_id,
            "job": row.name,
            "due_at": iso(due),
            "token": token,
            "events_url": f"/api/v1/runs/{run_id}/events",
            "finish_url": f"/api/v1/runs/{run_id}/finish",
        }
        target = row.target
        outbox_store.insert_message(
            tx.conn,
            kind="callback",
            channel_id=None,
            event="started",
            job=row.name,
            run_id=run_id,
            title=f"start {row.name}",
            body="",
            payload={
                "url": target["url"],
                "headers": target["headers"],
                "token": token,
                "body": body,
            },
            next_attempt_at=max(due, tx.now),
            created_at=tx.now,
        )
        return run_id

    def on_callback_failed(self, tx: Tx, delivery: Delivery, error: str, last: bool) -> None:
        """Record a failed callback on its run; after the last attempt the run fails."""
        if delivery.run_id is None:
            return
        attempt = delivery.attempts + 1
        run_store.insert_events(
            tx.conn,
            [
                {
                    "run_id": delivery.run_id,
                    "event_id": f"callback-{delivery.id}-{attempt}",
                    "kind": "callback",
                    "ts": tx.now,
                    "data": {"attempt": attempt, "error": error[:500], "final": last},
                }
            ],
        )
        run = run_store.load_run(tx.conn, delivery.run_id)
        if last and run is not None and not run.status.finished:
            self.runs.finish_in(
                tx,
                SYSTEM,
                delivery.run_id,
                RunStatus.FAILED,
                error=f"the hub could not start it: callback failed {attempt} times ({error[:300]})",
            )
