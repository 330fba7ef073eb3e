"""Runs: create, report into, finish, read."""

from __future__ import annotations

import dataclasses
import functools
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from thereyet.eta import Estimator

from ..domain.access import SYSTEM, Principal, run_start_refusal
from ..domain.cards import run_card
from ..domain.eta import score_run
from ..domain.events import Event, Heartbeat, Note, apply_events
from ..domain.policy import Action, Entry, Resource
from ..domain.room_cards import card_wanted, cards_for
from ..domain.runs import Run, RunFilter, RunStatus, TransitionError, check_move
from ..hub import Hub
from ..store import attachments as attachment_store
from ..store import pings as ping_store
from ..store import rooms as room_store
from ..store import runs as store
from ..store.writer import ALONE, Tx
from .attachments import check_attachment, save_attachment, stable_id
from .errors import Conflict, Forbidden, NotFound
from .rooms import check_name, post_in_rooms
from .views import attachment_view, event_view, run_summary, run_view

MAX_ERROR_CHARS = 4000
HISTORY_SECONDS = 30.0


@dataclass(frozen=True)
class NewRun:
    job: str
    id: str | None = None
    room: str | None = None
    status: RunStatus = RunStatus.RUNNING
    host: str | None = None
    pid: int | None = None
    user: str | None = None
    trigger: str | None = None
    total: float | None = None
    unit: str | None = None
    started_at: datetime | None = None


StatusHook = Callable[[Tx, Run, list[int], RunStatus | None], None]
# The same for a group of changes at once: (run, room ids, was) each.
StatusChange = tuple[Run, list[int], RunStatus | None]
GroupStatusHook = Callable[[Tx, list[StatusChange]], None]
# A key of Tx.memo: {job name: store.pings.PingedJob} for jobs a group of changes has
# already read, so that its grouped hooks need not read them again.
KNOWN_JOBS = "known jobs"


@dataclass(frozen=True)
class _Kept:
    """A running run as last committed, and the version of its row then."""

    run: Run
    version: int


@dataclass(frozen=True)
class BatchResult:
    accepted: int
    duplicates: int
    status: RunStatus


class RunService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        # Called inside the writer's transaction after every status change, so
        # that what follows from it (notifications, schedule bookkeeping) is
        # written atomically with it.
        self.status_hooks: list[StatusHook] = []
        # A hook's version for a group of changes (pings made together), where it has
        # one: it must do what calling the hook for each change in turn would do.
        self.grouped_status_hooks: dict[StatusHook, GroupStatusHook] = {}
        self._histories: dict[str, tuple[float, list[float]]] = {}
        self._run_rooms: dict[str, tuple[list[int], list[str]]] = {}
        # Running runs as last committed, so that a report need not read the whole
        # row (a log tail may be 64 KiB) nor write it back: see _load_for_write.
        self._kept: dict[str, _Kept] = {}
        # Between nodes, a run's page crosses as the run's id (its view, with the log, is
        # large, and only a node showing that page reads it again); a dashboard row whole.
        hub.bus.by_reference("run:", lambda _topic, run_id: self._live_view(run_id))
        hub.bus.by_reference("runs", self._live_summary, always=False)
        self.events_ingested = 0  # events reported and stored, since this process started
        self.event_duplicates = 0  # events reported again (an id the run had), not stored

    # -- writes ---------------------------------------------------------------

    async def create(self, who: Principal, spec: NewRun) -> tuple[dict[str, Any], bool]:
        """Create a run (and its job and room if new). A repeated id returns the run as is."""
        check_name(spec.job, "job")
        if spec.room is not None:
            check_name(spec.room, "room")
        if not who.reaches(Entry(Resource.JOBS, Action.WRITE)):
            raise Forbidden(f"a {who.kind.value} may not start runs")
        return await self.hub.writer.run(lambda tx: self._create(tx, spec, who))

    def _create(self, tx: Tx, spec: NewRun, who: Principal = SYSTEM) -> tuple[dict[str, Any], bool]:
        conn = tx.conn
        if spec.id is not None and (existing := store.load_run(conn, spec.id)) is not None:
            rooms = self._rooms_of(conn, existing.id)[1]
            if not who.may_read_run(existing.job, rooms, existing.id):
                raise NotFound(f"no run {spec.id}", field="id")  # nor a hint of its job
            if existing.job != spec.job:
                raise Conflict(f"run {spec.id} belongs to job {existing.job!r}", field="id")
            return self._view(conn, existing, tx.now), False
        found = room_store.job_id(conn, spec.job)
        job_rooms = None if found is None else room_store.job_room_names(conn, found)
        if refused := run_start_refusal(who, spec.job, job_rooms, spec.room):
            field, why = refused
            raise Forbidden(why, field=field)
        job_id = found if found is not None else room_store.ensure_job(conn, spec.job, tx.now)
        if spec.room is not None:
            room_store.add_job_room(conn, job_id, room_store.ensure_room(conn, spec.room, tx.now))
        running = spec.status is RunStatus.RUNNING
        run = Run(
            id=spec.id or uuid.uuid4().hex,
            job=spec.job,
            status=spec.status,
            created_at=tx.now,
            host=spec.host,
            pid=spec.pid,
            user=spec.user,
            trigger=spec.trigger,
            total=spec.total,
            unit=spec.unit,
            started_at=min(spec.started_at or tx.now, tx.now) if running else None,
            heartbeat_at=tx.now,
            node=self.hub.settings.node,
            eta=Estimator(spec.total, self._history(conn, spec.job, tx.now)),
        )
        store.insert_run(conn, run, job_id, tx.now)
        # Kept from the start (as inserted: version 0), so even its first report
        # can be made with others (see _report_many).
        self._keep_after_commit(tx, _Kept(dataclasses.replace(run, stats=dict(run.stats)), 0))
        room_ids = room_store.job_room_ids(conn, job_id)
        store.add_run_rooms(conn, run.id, room_ids)
        self._status_changed(tx, run, room_ids)
        return self._view(conn, run, tx.now), True

    async def report(self, who: Principal, run_id: str, events: Sequence[Event]) -> BatchResult:
        """Add a batch of events; ids the run already has are counted as duplicates."""
        alone = functools.partial(self._report, who=who, run_id=run_id, events=events)
        if len(events) == 1 and not isinstance(events[0], Note):
            # What a thousand SDKs each send once a second: made with its neighbours.
            result: BatchResult = await self.hub.writer.run_batched(
                self._report_many, (who, run_id, events[0]), alone
            )
        else:
            result = await self.hub.writer.run(alone)
        self.events_ingested += result.accepted
        self.event_duplicates += result.duplicates
        return result

    def _report_many(self, tx: Tx, items: list[tuple[Principal, str, Event]]) -> list[Any]:
        """Reports of one event each to running runs kept here, made together: one look at
        their versions, one insert of their events, one update per set of changed columns.
        Anything less plain (a run not kept or changed elsewhere, not running, a caller who
        may not report to it, a second report to the same run) is left to _report."""
        answers: list[Any] = [ALONE] * len(items)
        plain: dict[int, _Kept] = {}
        taken: set[str] = set()
        for i, (who, run_id, _event) in enumerate(items):
            kept = self._kept.get(run_id)
            rooms = self._run_rooms.get(run_id)
            fine = (
                kept is not None
                and rooms is not None
                and kept.run.status is RunStatus.RUNNING
                and who.may_write_run(kept.run.job, rooms[1], run_id)
            )
            if fine and run_id not in taken and kept is not None:
                plain[i] = kept
            taken.add(run_id)  # later reports of this run follow it, alone
        if not plain:
            return answers
        versions = store.run_versions(tx.conn, [items[i][1] for i in plain])
        plain = {i: kept for i, kept in plain.items() if versions.get(items[i][1]) == kept.version}
        rows = [
            _event_row(items[i][1], items[i][2])
            for i in plain
            if not isinstance(items[i][2], Heartbeat)
        ]
        inserted = store.insert_new_events(tx.conn, rows)
        changed: dict[tuple[str, ...], list[Run]] = {}
        for i, kept in plain.items():
            _who, run_id, event = items[i]
            fresh = isinstance(event, Heartbeat) or (run_id, event.id) in inserted
            run = dataclasses.replace(kept.run, stats=dict(kept.run.stats))
            apply_events(run, [event] if fresh else [], tx.now)  # running, no notes: no more
            fields = tuple(f for f in store.RUN_FIELDS if getattr(run, f) != getattr(kept.run, f))
            if fields:
                changed.setdefault(fields, []).append(run)
                self._keep_after_commit(tx, _Kept(run, kept.version + 1))
            self._publish(tx, run, kept.version + bool(fields))
            answers[i] = BatchResult(int(fresh), int(not fresh), run.status)
        for fields, runs in changed.items():
            store.update_runs(tx.conn, runs, fields, tx.now)
        return answers

    def _report(
        self, tx: Tx, *, who: Principal, run_id: str, events: Sequence[Event]
    ) -> BatchResult:
        conn = tx.conn
        run, room_ids = self._load_for_write(tx, who, run_id)
        if len(events) == 1:  # what an SDK sends most: one statement, not two
            event = events[0]
            fresh = isinstance(event, Heartbeat) or store.insert_new_event(
                conn, _event_row(run_id, event)
            )
            new = list(events) if fresh else []
        else:
            unique = list({e.id: e for e in reversed(events)}.values())[::-1]
            known = store.known_event_ids(conn, run_id, [e.id for e in unique])
            new = [e for e in unique if e.id not in known]
            store.insert_events(
                conn, [_event_row(run_id, e) for e in new if not isinstance(e, Heartbeat)]
            )
        applied = apply_events(run, new, tx.now)
        if applied.started or applied.resumed:
            was = RunStatus.LOST if applied.resumed else RunStatus.QUEUED
            self._status_changed(tx, run, room_ids, was)
        for note in applied.notes:
            post_in_rooms(
                tx,
                self.hub,
                room_ids,
                author=run.job,
                kind="note",
                body=note.text,
                data={"run_id": run.id, "job": run.job},
            )
        self._save(tx, run)
        self._publish(tx, run, tx.memo[run.id].version)
        return BatchResult(len(new), len(events) - len(new), run.status)

    async def finish(
        self,
        who: Principal,
        run_id: str,
        status: RunStatus,
        *,
        exit_code: int | None = None,
        error: str | None = None,
        finish_id: str | None = None,
    ) -> dict[str, Any]:
        """End a run. Repeating the same finish (same finish_id) is answered, not refused."""

        def write(tx: Tx) -> dict[str, Any]:
            if finish_id and store.finish_id(tx.conn, run_id) == finish_id:
                run, _ = self._load_for_write(tx, who, run_id)
                return self._view(tx.conn, run, tx.now)
            run = self.finish_in(
                tx, who, run_id, status, exit_code=exit_code, error=error, finish_id=finish_id
            )
            return self._view(tx.conn, run, tx.now)

        return await self.hub.writer.run(write)

    async def attach(
        self,
        who: Principal,
        run_id: str,
        name: str,
        content_type: str,
        content: bytes,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """Attach a file; with the client's own id, a retried upload returns the first one."""
        check_attachment(content, self.hub.settings.max_attachment_bytes)

        def write(tx: Tx) -> dict[str, Any]:
            run, room_ids = self._load_for_write(tx, who, run_id)
            attachment_id = stable_id(f"run:{run_id}", client_id) if client_id else None
            if attachment_id and (found := attachment_store.get_attachment(tx.conn, attachment_id)):
                return attachment_view(found)
            view = save_attachment(
                tx,
                name=name,
                content_type=content_type,
                content=content,
                run_id=run_id,
                attachment_id=attachment_id,
            )
            attachment_id = view["id"]
            store.insert_events(
                tx.conn,
                [
                    {
                        "run_id": run_id,
                        "event_id": f"attachment-{attachment_id}",
                        "kind": "attachment",
                        "ts": tx.now,
                        "data": {k: view[k] for k in ("name", "size", "content_type", "url")},
                    }
                ],
            )
            post_in_rooms(
                tx,
                self.hub,
                room_ids,
                author=run.job,
                kind="attachment",
                body=f"{run.job} attached {name}",
                data={"run_id": run_id, "attachment": view},
            )
            return view

        return await self.hub.writer.run(write)

    # -- reads ----------------------------------------------------------------

    def get(self, who: Principal, run_id: str) -> dict[str, Any]:
        with self.hub.engines.read.connect() as conn:
            run = store.load_run(conn, run_id)
            if run is None:
                raise NotFound(f"no run with id {run_id!r}")
            rooms = store.run_room_names(conn, [run_id])[run_id]
            if not who.may_read_run(run.job, rooms, run_id):
                raise NotFound(f"no run with id {run_id!r}")
            now = self.hub.clock.now()
            history = store.recent_durations(conn, run.job, before=now)
            files = attachment_store.run_attachments(conn, run_id)
            return run_view(run, now=now, rooms=rooms, history=history, attachments=files)

    def search(
        self,
        who: Principal,
        flt: RunFilter,
        *,
        before: tuple[datetime, str] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        if not who.reads_everything:
            flt = dataclasses.replace(flt, only_jobs=who.jobs, only_rooms=who.rooms)
        now = self.hub.clock.now()
        with self.hub.engines.read.connect() as conn:
            found = store.list_runs(conn, flt, before=before, limit=max(1, min(limit, 500)))
            rooms = store.run_room_names(conn, [r.id for r in found])
            histories = {
                job: store.recent_durations(conn, job, before=now)
                for job in {r.job for r in found if not r.status.finished}
            }
        return [
            run_view(r, now=now, rooms=rooms[r.id], history=histories.get(r.job)) for r in found
        ]

    def attachment(self, who: Principal, attachment_id: str) -> Any:
        """The attachment's row with its content, if the caller may see its run."""
        with self.hub.engines.read.connect() as conn:
            row = attachment_store.get_attachment(conn, attachment_id, content=True)
        if row is None:
            raise NotFound(f"no attachment with id {attachment_id!r}")
        if row.run_id is not None:
            self.get(who, row.run_id)
        elif row.room_id is not None:
            with self.hub.engines.read.connect() as conn:
                room = room_store.room_name(conn, row.room_id)
            if not who.may_read_room(room):
                raise NotFound(f"no attachment with id {attachment_id!r}")
        return row

    def events(
        self,
        who: Principal,
        run_id: str,
        *,
        after: int,
        limit: int,
        kinds: tuple[str, ...] | None = None,
    ) -> list[dict[str, Any]]:
        """A page of a run's events (only those of `kinds`, when given)."""
        self.get(who, run_id)  # 404 unless the caller may see the run
        with self.hub.engines.read.connect() as conn:
            rows = store.list_events(conn, run_id, after, max(1, min(limit, 1000)), kinds)
        return [event_view(row) for row in rows]

    # -- shared steps -----------------------------------------------------------

    def _load_for_write(self, tx: Tx, who: Principal, run_id: str) -> tuple[Run, list[int]]:
        """The run to change (a copy of its kept state, if its row has not changed since)
        and its room ids; NotFound or Forbidden unless `who` may report to it.

        Save what changed with _save. A run is kept only once its state is committed,
        so a rolled-back change never lingers here."""
        conn = tx.conn
        version = store.run_version(conn, run_id)
        if version is None:
            raise NotFound(f"no run with id {run_id!r}")
        kept = self._kept.get(run_id)
        if kept is None or kept.version != version:
            loaded = store.load_run_version(conn, run_id)
            if loaded is None:
                raise NotFound(f"no run with id {run_id!r}")
            kept = _Kept(*loaded)
            self._keep_after_commit(tx, kept)
        tx.memo[run_id] = kept
        run = dataclasses.replace(kept.run, stats=dict(kept.run.stats))
        room_ids, rooms = self._rooms_of(conn, run_id)
        if not who.may_write_run(run.job, rooms, run.id):
            if who.may_read_run(run.job, rooms, run.id):
                raise Forbidden(f"this token may not report to run {run_id!r}")
            raise NotFound(f"no run with id {run_id!r}")
        return run, room_ids

    def _save(self, tx: Tx, run: Run, **extra: str | None) -> None:
        """Write what changed of a run read with _load_for_write (and `extra` columns)."""
        kept: _Kept = tx.memo[run.id]
        changed = [f for f in store.RUN_FIELDS if getattr(run, f) != getattr(kept.run, f)]
        if not changed and not extra:
            return
        store.update_run(tx.conn, run, changed, tx.now, **extra)
        kept = tx.memo[run.id] = _Kept(run, kept.version + 1)
        self._keep_after_commit(tx, kept)

    def _keep_after_commit(self, tx: Tx, kept: _Kept) -> None:
        def keep() -> None:
            if kept.run.status.finished:
                self._kept.pop(kept.run.id, None)
                return
            if len(self._kept) > 50_000:
                self._kept.clear()
            self._kept[kept.run.id] = kept

        tx.after_commit(keep)

    def know_rooms(self, run_id: str, room_ids: list[int], names: dict[int, str]) -> None:
        """Keep the rooms of a run just made (ids and names, in name order), so that
        publishing it asks nothing more of the database."""
        pairs = sorted((names[i], i) for i in room_ids if i in names)
        self._run_rooms[run_id] = ([i for _, i in pairs], [n for n, _ in pairs])

    def _rooms_of(self, conn: Connection, run_id: str) -> tuple[list[int], list[str]]:
        """A run's rooms (ids, names). They are set when the run is made and never change,
        so running runs keep them here rather than ask for them at every report."""
        found = self._run_rooms.get(run_id)
        if found is None:
            if len(self._run_rooms) > 50_000:
                self._run_rooms.clear()
            found = self._run_rooms[run_id] = store.rooms_of_run(conn, run_id)
        return found

    def _status_changed(
        self, tx: Tx, run: Run, room_ids: list[int], was: RunStatus | None = None
    ) -> None:
        """Record a status change in the event log and post its card in the run's rooms."""
        store.insert_events(
            tx.conn,
            [
                {
                    "run_id": run.id,
                    "event_id": f"status-{uuid.uuid4().hex}",
                    "kind": "status",
                    "ts": tx.now,
                    "data": {"status": run.status.value},
                }
            ],
        )
        for hook in self.status_hooks:
            hook(tx, run, room_ids, was)
        if not self._card_wanted(tx, run, was):
            return
        post_in_rooms(
            tx,
            self.hub,
            room_ids,
            author="thereyet",
            kind="run",
            body=run_card(run, change=run.status, now=tx.now, was=was),
            data={"run_id": run.id, "job": run.job, "status": run.status.value},
        )

    def _card_wanted(self, tx: Tx, run: Run, was: RunStatus | None) -> bool:
        """Whether this change gets a card in the run's rooms (domain.room_cards); notes
        how the job's run ended, for the next one to compare with."""
        if run.status is RunStatus.QUEUED:
            return False
        facts = ping_store.card_facts(tx.conn, run.job)
        if facts is None:
            return True
        if run.status.finished and facts.last_status != run.status.value:
            # Only a change is written: two nodes finishing runs of the same jobs in
            # other orders would otherwise take the jobs' row locks crosswise
            # (deadlocks), and a routine that keeps succeeding writes nothing here.
            ping_store.set_last_statuses(tx.conn, [(facts.id, run.status.value)])
        cards = cards_for(facts.room_cards, run.trigger)
        return card_wanted(cards, run.status, was, facts.last_status)

    # -- steps for the ping API and the workers, inside their writer transaction ----

    def create_in(self, tx: Tx, spec: NewRun) -> tuple[dict[str, Any], bool]:
        """Create a run within `tx` (see create); names must already be checked."""
        return self._create(tx, spec)

    def report_in(
        self, tx: Tx, who: Principal, run_id: str, events: Sequence[Event]
    ) -> BatchResult:
        """Add a batch of events within `tx` (see report)."""
        return self._report(tx, who=who, run_id=run_id, events=events)

    def finish_in(
        self,
        tx: Tx,
        who: Principal,
        run_id: str,
        status: RunStatus,
        *,
        exit_code: int | None = None,
        error: str | None = None,
        finish_id: str | None = None,
    ) -> Run:
        """End a run within `tx`; Conflict if it has already ended."""
        run, room_ids = self._load_for_write(tx, who, run_id)
        try:
            check_move(run.status, status)
        except TransitionError as exc:
            raise Conflict(str(exc), field="status") from exc
        was, run.status = run.status, status
        run.finished_at = tx.now
        if status is not RunStatus.CANCELLED:
            run.started_at = run.started_at or run.created_at
        run.exit_code = exit_code
        run.error = error[:MAX_ERROR_CHARS] if error else None
        if status is RunStatus.SUCCEEDED:
            score_run(run)
        self._save(tx, run, finish_id=finish_id)
        self._status_changed(tx, run, room_ids, was)
        self._publish(tx, run, tx.memo[run.id].version)
        return run

    def begin_in(self, tx: Tx, run_id: str, host: str) -> Run | None:
        """Within `tx`: a queued run the hub handed out starts on `host` (an agent's);
        None if it is no longer queued (cancelled meanwhile)."""
        run, room_ids = self._load_for_write(tx, SYSTEM, run_id)
        if run.status is not RunStatus.QUEUED:
            return None
        run.status, run.host = RunStatus.RUNNING, host
        run.started_at = run.heartbeat_at = tx.now
        self._save(tx, run)
        self._status_changed(tx, run, room_ids, RunStatus.QUEUED)
        self._publish(tx, run, tx.memo[run.id].version)
        return run

    def writable_in(self, tx: Tx, who: Principal, run_id: str) -> Run:
        """Within `tx`: the run, if `who` may change it; NotFound or Forbidden otherwise."""
        return self._load_for_write(tx, who, run_id)[0]

    def mark_lost(self, tx: Tx, run_id: str) -> Run | None:
        """Mark a running run lost (the monitor heard nothing for lost_after)."""
        try:
            run, room_ids = self._load_for_write(tx, SYSTEM, run_id)
        except NotFound:
            return None
        if run.status is not RunStatus.RUNNING:
            return None
        run.status = RunStatus.LOST
        self._save(tx, run)
        self._status_changed(tx, run, room_ids, RunStatus.RUNNING)
        self._publish(tx, run, tx.memo[run.id].version)
        return run

    def _view(self, conn: Connection, run: Run, now: datetime) -> dict[str, Any]:
        rooms = self._rooms_of(conn, run.id)[1]
        # Only a run still going has an ETA to work out from its job's history: a
        # finished run's view (each ping's) reads none, and with many checks the
        # history's cache could not spare that read.
        history = None if run.status.finished else self._history(conn, run.job, now)
        return run_view(run, now=now, rooms=rooms, history=history)

    def _history(self, conn: Connection, job: str, now: datetime) -> list[float]:
        """The job's recent durations, kept a little while: live views ask many times a second."""
        cached = self._histories.get(job)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        durations = store.recent_durations(conn, job, before=now)
        # Each job's copy lasts a little more or less, so that jobs first asked for
        # together are not all read again in one group (on PostgreSQL each read is a
        # round trip, and a group waits for all of its own).
        lasts = HISTORY_SECONDS * random.uniform(0.5, 1.5)
        self._histories[job] = (time.monotonic() + lasts, durations)
        return durations

    def _live_view(self, run_id: str) -> dict[str, Any] | None:
        """A run's view for its page on this node, when another node changed it."""
        try:
            return self.get(SYSTEM, run_id)
        except NotFound:
            return None

    def _live_summary(self, _topic: str, run_id: str) -> dict[str, Any] | None:
        view = self._live_view(run_id)
        return None if view is None else run_summary(view)

    def _publish(self, tx: Tx, run: Run, version: int) -> None:
        """Once committed, tell the run's page (the whole view) and dashboards (a summary).

        `version` is the run row's version as committed: other nodes' updates of the same
        run may reach this node's bus in any order, and the bus drops an older state that
        arrives after a newer one."""
        bus, topic = self.hub.bus, f"run:{run.id}"
        heard = bus.is_heard(topic) or bus.is_heard("runs")
        view = {**self._view(tx.conn, run, tx.now), "version": version} if heard else {}
        if run.status.finished:
            # (The job's history is left to expire: a finish every second, as
            # pings make, would otherwise mean a history query for every run.)
            self._run_rooms.pop(run.id, None)

        def announce() -> None:
            nonlocal view
            page, dashboards = bus.is_heard(topic), bus.is_heard("runs")
            if not (page or dashboards):
                return
            if not view:
                # Someone began to watch between the check above and the commit: read
                # the view as committed (a snapshot taken before may not have had it).
                view = self._live_view(run.id) or {}
                if not view:
                    return
            if page:
                bus.show(topic, view)
            if dashboards:
                bus.show("runs", run_summary(view))

        tx.after_commit(announce)


_NOT_DATA = frozenset({"id", "ts"})


def _event_row(run_id: str, event: Event) -> dict[str, Any]:
    # Not dataclasses.asdict: it deep-copies every field, and on the ingestion
    # path that was half of the hub's CPU. The fields are plain values.
    data = {k: v for k, v in vars(event).items() if k not in _NOT_DATA}
    return {
        "run_id": run_id,
        "event_id": event.id,
        "kind": event.kind,
        "ts": event.ts,
        "data": data,
    }
