"""Runs made and ended together: what a group of pings in one writer group records.

A ping with no start before it makes a run and ends it at once. Made one by
one, that was about sixteen statements and two rounds of status hooks per
ping; made together, a group of pings inserts its runs, their rooms and their
events in one statement each (insert_ended_runs: statements that read nothing
back, so that in a pipeline they go in one round trip), and each status hook is
run once for the whole group (announce_ended_runs, with
RunService.grouped_status_hooks). What is recorded is the same as
made one by one: a run that went running, then ended, with the ping's body as
its log, and the same hooks, events and cards.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

from ..domain.cards import run_card
from ..domain.events import Log, apply_events
from ..domain.room_cards import card_wanted, cards_for
from ..domain.runs import Run, RunStatus
from ..store import pings as store
from ..store import runs as run_store
from ..store.pings import PingedJob
from ..store.writer import Tx
from .rooms import post_in_rooms
from .runs import KNOWN_JOBS, RunService, StatusChange, _event_row


@dataclass(frozen=True)
class EndedRun:
    """A run to make and end at once: the job's row (as read in this group), how it
    ended, and the lines to keep as its log."""

    job: PingedJob
    status: RunStatus
    exit_code: int | None = None
    log: str = ""
    trigger: str = "ping"


@dataclass(frozen=True)
class InsertedRuns:
    """What insert_ended_runs wrote, for announce_ended_runs to tell."""

    ended: list[EndedRun]
    made: list[tuple[Run, int]]  # (run, job id)
    changes: list[StatusChange]


def insert_ended_runs(runs: RunService, tx: Tx, ended: list[EndedRun]) -> InsertedRuns:
    """The runs, their rooms and events of `ended`, inserted with statements that read
    nothing back: in a pipeline (store.pipeline) they wait and go together."""
    conn = tx.conn
    tx.memo[KNOWN_JOBS] = {e.job.name: e.job for e in ended}
    made: list[tuple[Run, int]] = []
    events: list[dict[str, Any]] = []
    changes: list[StatusChange] = []
    for e in ended:
        run = Run(
            id=uuid.uuid4().hex,
            job=e.job.name,
            status=RunStatus.RUNNING,
            created_at=tx.now,
            trigger=e.trigger,
            started_at=tx.now,
            heartbeat_at=tx.now,
            node=runs.hub.settings.node,
        )
        started = dataclasses.replace(run, stats=dict(run.stats))
        events.append(_status_row(run.id, RunStatus.RUNNING, tx))
        if e.log.strip():
            log = Log(id=f"ping-{uuid.uuid4().hex}", ts=tx.now, text=e.log, stream="log")
            apply_events(run, [log], tx.now)
            events.append(_event_row(run.id, log))
        run.status, run.finished_at, run.exit_code = e.status, tx.now, e.exit_code
        events.append(_status_row(run.id, e.status, tx))
        made.append((run, e.job.id))
        room_ids = list(e.job.rooms)
        changes += [(started, room_ids, None), (run, room_ids, RunStatus.RUNNING)]
    store.insert_runs(conn, made, tx.now)
    store.add_runs_rooms(
        conn,
        [(run.id, room) for e, (run, _) in zip(ended, made, strict=True) for room in e.job.rooms],
    )
    run_store.insert_events(conn, events)
    return InsertedRuns(ended, made, changes)


def announce_ended_runs(runs: RunService, tx: Tx, inserted: InsertedRuns) -> list[Run]:
    """The status hooks, cards and last statuses of runs insert_ended_runs wrote, run
    once for the group; the runs."""
    ended, changes = inserted.ended, inserted.changes
    _run_hooks(runs, tx, changes)
    _post_cards(runs, tx, ended, changes)
    _note_last_statuses(tx.conn, ended)
    names = store.room_names(tx.conn, sorted({room for e in ended for room in e.job.rooms}))
    for e, (run, _) in zip(ended, inserted.made, strict=True):
        runs.know_rooms(run.id, list(e.job.rooms), names)
        runs._publish(tx, run, 0)  # a row just inserted has version 0
    return [run for run, _ in inserted.made]


def _note_last_statuses(conn: Any, ended: list[EndedRun]) -> None:
    """Note how each job's latest run ended, where that changed (a routine that keeps
    succeeding writes nothing to its job's row)."""
    last = {e.job.id: (e.job.last_status, e.status.value) for e in ended}
    store.set_last_statuses(conn, [(job, now) for job, (was, now) in last.items() if was != now])


def _status_row(run_id: str, status: RunStatus, tx: Tx) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "event_id": f"status-{uuid.uuid4().hex}",
        "kind": "status",
        "ts": tx.now,
        "data": {"status": status.value},
    }


def _run_hooks(runs: RunService, tx: Tx, changes: list[StatusChange]) -> None:
    for hook in runs.status_hooks:
        grouped = runs.grouped_status_hooks.get(hook)
        if grouped is not None:
            grouped(tx, changes)
            continue
        for run, room_ids, was in changes:
            hook(tx, run, room_ids, was)


def _post_cards(
    runs: RunService, tx: Tx, ended: list[EndedRun], changes: list[StatusChange]
) -> None:
    """The cards one by one would have posted (domain.room_cards), in change order."""
    jobs = {e.job.name: e.job for e in ended}
    last_end = {e.job.name: e.job.last_status for e in ended}  # as it moves through the group
    for run, room_ids, was in changes:
        job = jobs[run.job]
        cards = cards_for(job.room_cards, run.trigger)
        wanted = card_wanted(cards, run.status, was, last_end[run.job])
        if run.status.finished:
            last_end[run.job] = run.status.value
        if not room_ids or not wanted:
            continue
        post_in_rooms(
            tx,
            runs.hub,
            room_ids,
            author="thereyet",
            kind="run",
            body=run_card(run, change=run.status, now=tx.now, was=was),
            data={"run_id": run.id, "job": run.job, "status": run.status.value},
        )
