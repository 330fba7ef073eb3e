"""Incidents: open, deduplicate, acknowledge, resolve, and escalate along a policy.

Paging follows the monitor's pattern: load the incident, ask the pure
`calc(now)` which escalation positions are due, claim them with one
conditional UPDATE (so with several hub nodes each step is paged once), and
write the pages as outbox rows in the same transaction. The dispatcher
delivers them. Step 0 is paged in the transaction that opens the incident.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection

from .. import faults
from ..domain import incidents as rules
from ..domain import oncall as oncall_rules
from ..domain.access import SYSTEM, Principal
from ..domain.incidents import IncidentStatus
from ..domain.links import is_web_url, web_links
from ..domain.policy import Action, Resource
from ..domain.runs import Run, RunStatus
from ..hub import Hub
from ..store import incidents as store
from ..store import oncall as oncall_store
from ..store import outbox as outbox_store
from ..store import rooms as room_store
from ..store.tables import escalation_policies, incident_services, jobs, oncall_people, rotations
from ..store.writer import Tx
from .alert_limits import AlertLimiter
from .errors import Conflict, Forbidden, Invalid, NotFound
from .oncall import OncallService
from .oncall_rows import hours_of, overrides_of, policy_of, rotation_of
from .rooms import post_in_rooms
from .runs import KNOWN_JOBS
from .views import iso

log = logging.getLogger(__name__)

LINK_HOURS = 24
MAX_PER_TICK = 200


@dataclass(frozen=True)
class Trigger:
    """What a source says when something is wrong."""

    summary: str
    origin: str  # job | pagerduty | alertmanager | generic | api
    dedup_key: str | None = None
    source: str = ""
    severity: str = "error"
    details: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    runbook_url: str | None = None
    group_key: str | None = None
    job: str | None = None
    run_id: str | None = None
    runbook_field: str = "runbook_url"  # named in the error when a runbook is required


@dataclass(frozen=True)
class Opened:
    incident_id: int
    dedup_key: str
    created: bool


class IncidentService:
    def __init__(self, hub: Hub, oncall: OncallService) -> None:
        self.hub = hub
        self.oncall = oncall
        # Inbound alert endpoints spend a token per request before writing anything.
        self.limiter = AlertLimiter(hub)

    # -- opening and changing incidents -------------------------------------------------

    async def trigger(self, who: Principal, service: str, trigger: Trigger) -> Opened:
        """Open an incident on `service` for `who` (within its limits: the service's room)."""

        def write(tx: Tx) -> Opened:
            row = oncall_store.by_name(tx.conn, incident_services, service)
            if row is None:
                raise NotFound(f"no service named {service!r}", field="service")
            rooms = [row.room] if row.room else []
            if not who.may(Resource.INCIDENTS, Action.WRITE, job=trigger.job, rooms=rooms):
                raise Forbidden(
                    f"this {who.kind.value} may not open incidents on service {service!r}",
                    field="service",
                )
            return self.trigger_in(tx, row, trigger, enforce_runbook=True)

        return await self.hub.writer.run(write)

    def trigger_in(
        self, tx: Tx, service: Any, trigger: Trigger, *, enforce_runbook: bool
    ) -> Opened:
        """Open an incident, or fold the trigger into the open one with the same key."""
        key = trigger.dedup_key or uuid.uuid4().hex
        found = store.open_by_key(tx.conn, service.id, key)
        if found is not None:
            store.add_event(tx.conn, found.id, tx.now, "deduplicated", trigger.origin, {})
            return Opened(found.id, key, False)
        twin = self._told_by_the_other_sender(tx, service, trigger, key)
        if twin is not None:
            return twin
        # Links from outside (PagerDuty, Alertmanager) are kept only if they are http(s):
        # a `javascript:` runbook would run in the hub's pages when clicked.
        runbook = next(
            (u for u in (trigger.runbook_url, service.runbook_url) if is_web_url(u)), None
        )
        if enforce_runbook and service.require_runbook and not runbook:
            raise Invalid(
                f"service {service.name!r} requires a runbook link", field=trigger.runbook_field
            )
        incident_id = store.insert_incident(
            tx.conn,
            service_id=service.id,
            dedup_key=key,
            open_key=key,
            status=IncidentStatus.TRIGGERED.value,
            summary=trigger.summary,
            source=trigger.source,
            severity=trigger.severity,
            details=trigger.details,
            links=web_links(trigger.links, "href"),
            images=web_links(trigger.images, "src"),
            runbook_url=runbook,
            origin=trigger.origin,
            group_key=trigger.group_key,
            job=trigger.job,
            run_id=trigger.run_id,
            triggered_at=tx.now,
            paged_through=-1,
            next_escalation_at=tx.now if service.policy_id else None,
            updated_at=tx.now,
        )
        store.add_event(
            tx.conn, incident_id, tx.now, "triggered", trigger.origin, {"summary": trigger.summary}
        )
        row = store.get(tx.conn, incident_id)
        self._card(tx, service, row, IncidentStatus.TRIGGERED, None)
        self._escalate_one(tx, row, tx.now)
        return Opened(incident_id, key, True)

    async def act(
        self, who: Principal, incident_id: int, action: str, actor: str | None = None
    ) -> dict[str, Any]:
        """Acknowledge or resolve an incident `who` may write; `actor` is who is named
        in its timeline (`who`'s name unless given, as a paging link names its person)."""

        def write(tx: Tx) -> dict[str, Any]:
            row = _writable(tx.conn, who, incident_id, action)
            self.act_in(tx, row, action, actor or who.name)
            return self._view(tx.conn, store.get(tx.conn, incident_id))

        return await self.hub.writer.run(write)

    def act_by_key(self, tx: Tx, service_id: int, key: str, action: str, actor: str) -> bool:
        """Acknowledge or resolve the open incident with this key; False if there is none."""
        row = store.open_by_key(tx.conn, service_id, key)
        if row is None:
            return False
        self.act_in(tx, row, action, actor)
        return True

    def act_in(self, tx: Tx, row: Any, action: str, actor: str) -> bool:
        """Apply acknowledge/resolve to a loaded incident; False when it changes nothing."""
        status = IncidentStatus(row.status)
        new = rules.transition(status, action)
        if new is None:
            return False
        values: dict[str, Any] = {"status": new.value, "updated_at": tx.now}
        values["next_escalation_at"] = None
        if new is IncidentStatus.ACKNOWLEDGED:
            values.update(acknowledged_at=tx.now, acknowledged_by=actor)
        else:
            values.update(resolved_at=tx.now, resolved_by=actor, open_key=None)
        if not store.change_status(tx.conn, row.id, row.status, **values):
            return False
        withdrawn = 0
        for page in store.pages_of(tx.conn, row.id):
            withdrawn += store.cancel_pending(tx.conn, list(page.outbox_ids))
        service = oncall_store.by_id(tx.conn, incident_services, row.service_id)
        told = self._tell_paged(tx, row, service, new, actor)
        data = {"withdrawn": withdrawn} if withdrawn else {}
        if told:
            data["told"] = told
        store.add_event(tx.conn, row.id, tx.now, new.value, actor, data)
        self._card(tx, service, row, new, actor)
        return True

    def _tell_paged(
        self, tx: Tx, row: Any, service: Any, status: IncidentStatus, actor: str
    ) -> int:
        """Queue one notice of the new status for each channel that carried a page.

        A contact method or channel is told once however many steps paged it;
        pages withdrawn before they left (and pages that failed for good) reached
        nobody, so nobody is told through them. Return how many notices were queued.
        """
        outbox_ids = [i for page in store.pages_of(tx.conn, row.id) for i in page.outbox_ids]
        channel_ids = store.paged_channels(tx.conn, outbox_ids)
        if not channel_ids:
            return 0
        link = f"{self.oncall.public_url(tx.conn)}/incidents/{row.id}"
        title, body = rules.notice_text(
            row.id, row.summary, status, service=service.name, who=actor, link=link
        )
        for channel_id in channel_ids:
            self._queue(tx, row, service, channel_id, title, body, tx.now, notice=status.value)
        return len(channel_ids)

    # -- escalation -------------------------------------------------------------------------

    async def escalate(self, now: datetime) -> int:
        """Page every escalation step due at `now`; return how many incidents moved on."""
        due = await self.hub.read(
            lambda conn: [r.id for r in store.due_escalations(conn, now, MAX_PER_TICK)]
        )
        if not due:
            return 0

        def write(tx: Tx) -> int:
            moved = 0
            for incident_id in due:
                row = store.get(tx.conn, incident_id)
                if row is not None and self._escalate_one(tx, row, now):
                    moved += 1
            return moved

        return await self.hub.writer.run(write)

    def _escalate_one(self, tx: Tx, row: Any, now: datetime) -> bool:
        service = oncall_store.by_id(tx.conn, incident_services, row.service_id)
        policy_row = (
            oncall_store.by_id(tx.conn, escalation_policies, service.policy_id)
            if service.policy_id
            else None
        )
        if policy_row is None:  # the policy was removed: nothing to page, stop looking
            store.claim_escalation(tx.conn, row.id, row.paged_through, row.paged_through, None)
            return False
        policy = policy_of(policy_row)
        step = rules.calc(
            policy, IncidentStatus(row.status), row.triggered_at, row.paged_through, now
        )
        through = step.page[-1] if step.page else row.paged_through
        if not store.claim_escalation(tx.conn, row.id, row.paged_through, through, step.next_at):
            return False  # another node paged it, or it was acknowledged meanwhile
        for position in step.page:
            self._page_position(tx, row, service, policy, position, now)
        if step.page:
            tx.after_commit(lambda: faults.reached("escalator.after_claim"))
        return bool(step.page)

    def _page_position(
        self, tx: Tx, row: Any, service: Any, policy: rules.Policy, position: int, now: datetime
    ) -> None:
        paged: list[str] = []
        for target in policy.step_at(position).targets:
            if target.kind == "rotation":
                rotation = oncall_store.by_name(tx.conn, rotations, target.name)
                person = (
                    oncall_rules.on_call(
                        rotation_of(rotation), overrides_of(tx.conn, rotation.id), now
                    )
                    if rotation
                    else None
                )
                if person is None:
                    store.add_event(
                        tx.conn, row.id, tx.now, "unpaged", "thereyet", {"rotation": target.name}
                    )
                    continue
                paged.append(self._page_person(tx, row, service, person, position, now))
            elif target.kind == "person":
                paged.append(self._page_person(tx, row, service, target.name, position, now))
            else:
                paged.append(self._page_channel(tx, row, service, target.name, position, now))
        store.add_event(
            tx.conn,
            row.id,
            tx.now,
            "escalated" if position else "notified",
            "thereyet",
            {"position": position, "targets": [p for p in paged if p]},
        )

    def _page_person(
        self, tx: Tx, row: Any, service: Any, person: str, position: int, now: datetime
    ) -> str:
        found = oncall_store.by_name(tx.conn, oncall_people, person)
        if found is None:
            return ""
        methods = {m.name: m.channel_id for m in oncall_store.contact_methods_of(tx.conn, found.id)}
        wanted = found.rules or [{"method": m, "after_minutes": 0} for m in methods]
        links = self.links(tx.conn, row.id, person, now)
        title, body = rules.page_text(
            row.id,
            row.summary,
            service=service.name,
            severity=row.severity,
            runbook_url=row.runbook_url,
            links=links,
        )
        ids = []
        for rule in wanted:
            channel_id = methods.get(rule["method"])
            if channel_id is None:
                continue
            at = now + timedelta(minutes=int(rule["after_minutes"]))
            ids.append(self._queue(tx, row, service, channel_id, title, body, at, step=position))
        store.add_page(
            tx.conn,
            incident_id=row.id,
            position=position,
            person=person,
            channel=None,
            at=now,
            out_of_hours=int(not hours_of(found).inside(now)),
            outbox_ids=ids,
        )
        return f"person:{person}"

    def _page_channel(
        self, tx: Tx, row: Any, service: Any, channel: str, position: int, now: datetime
    ) -> str:
        found = outbox_store.channel_by_name(tx.conn, channel)
        if found is None:
            return ""
        title, body = rules.page_text(
            row.id,
            row.summary,
            service=service.name,
            severity=row.severity,
            runbook_url=row.runbook_url,
            links=[],
        )
        outbox_id = self._queue(tx, row, service, found.id, title, body, now, step=position)
        store.add_page(
            tx.conn,
            incident_id=row.id,
            position=position,
            person=None,
            channel=channel,
            at=now,
            out_of_hours=0,
            outbox_ids=[outbox_id],
        )
        return f"channel:{channel}"

    def _queue(
        self,
        tx: Tx,
        row: Any,
        service: Any,
        channel_id: int,
        title: str,
        body: str,
        at: datetime,
        *,
        notice: str | None = None,
        step: int | None = None,
    ) -> int:
        """Queue one message about an incident; a page names its escalation `step`, and
        the dispatcher sends an incident's steps in order (store/outbox.py)."""
        payload: dict[str, Any] = {"incident_id": row.id}
        if notice is not None:
            payload["notice"] = notice
        return outbox_store.insert_message(
            tx.conn,
            kind="notify",
            channel_id=channel_id,
            event="incident",
            job=(row.job or service.name)[:64],
            run_id=row.run_id,
            title=title,
            body=body,
            payload=payload,
            next_attempt_at=at,
            created_at=tx.now,
            sequence=None if step is None else f"incident:{row.id}",
            step=step,
        )

    def _told_by_the_other_sender(
        self, tx: Tx, service: Any, trigger: Trigger, key: str
    ) -> Opened | None:
        """Fold an Alertmanager group told through both its webhook and its PagerDuty
        sender into the incident the first of them opened, so nobody is paged twice."""
        if trigger.origin not in ("alertmanager", "pagerduty"):
            return None
        for row in store.open_from_alertmanager(tx.conn, service.id):
            if rules.same_alertmanager_group(trigger.origin, key, trigger.group_key, row):
                data = {"also_from": trigger.origin}
                store.add_event(tx.conn, row.id, tx.now, "deduplicated", trigger.origin, data)
                return Opened(row.id, key, False)
        return None

    # -- the room card --------------------------------------------------------------------------

    def _card(
        self, tx: Tx, service: Any, row: Any, status: IncidentStatus, who: str | None
    ) -> None:
        if not service.room:
            return
        room_id = room_store.ensure_room(tx.conn, service.room, tx.now)
        card = rules.incident_card(
            row.id, status, row.summary, service=service.name, runbook_url=row.runbook_url, who=who
        )
        post_in_rooms(
            tx,
            self.hub,
            [room_id],
            author="thereyet",
            kind="alert",
            body=card,
            data={"incident": row.id, "status": status.value},
        )

    # -- signed one-click links ------------------------------------------------------------------

    def links(
        self, conn: Connection, incident_id: int, person: str, now: datetime
    ) -> list[tuple[str, str]]:
        secret = self.oncall.secret_in(conn)
        expires = int((now + timedelta(hours=LINK_HOURS)).timestamp())
        base = self.oncall.public_url(conn)
        found = []
        for label, action in (("Acknowledge", "acknowledge"), ("Resolve", "resolve")):
            signature = rules.link_signature(secret, incident_id, action, person, expires)
            query = urlencode({"person": person, "expires": expires, "sig": signature})
            found.append((label, f"{base}/incidents/{incident_id}/{action}?{query}"))
        return found

    async def check_link(
        self, incident_id: int, action: str, person: str, expires: int, signature: str
    ) -> dict[str, Any]:
        """The incident a one-click link is for; Forbidden unless it is genuine and unexpired."""
        secret = await self.oncall.link_secret()
        if not rules.link_is_valid(
            secret, incident_id, action, person, expires, signature, self.hub.clock.now()
        ):
            raise Forbidden("this link is not valid or has expired", field="sig")
        return self.get(SYSTEM, incident_id)  # the link names this one incident

    async def act_by_link(
        self, incident_id: int, action: str, person: str, expires: int, signature: str
    ) -> dict[str, Any]:
        await self.check_link(incident_id, action, person, expires, signature)
        return await self.act(SYSTEM, incident_id, action, person)

    # -- jobs ---------------------------------------------------------------------------------

    def on_run_status(self, tx: Tx, run: Run, room_ids: list[int], was: RunStatus | None) -> None:
        """A RunService status hook: failed and lost runs may open incidents."""
        if run.status in (RunStatus.FAILED, RunStatus.LOST):
            self._safely(tx, self._job_event, run.job, run.id, run.status.value, run.error or "")
        elif run.status is RunStatus.SUCCEEDED:
            self._safely(tx, self._job_recovered, run.job, None)

    def on_runs_status(
        self, tx: Tx, changes: list[tuple[Run, list[int], RunStatus | None]]
    ) -> None:
        """on_run_status for a group of changes: a success only looks for incidents to
        resolve when its job has an open one (asked once for the whole group, and not
        at all for jobs the group has read already: runs.KNOWN_JOBS)."""
        succeeded = sorted({r.job for r, _, _ in changes if r.status is RunStatus.SUCCEEDED})
        known = tx.memo.get(KNOWN_JOBS, {})
        unknown = [job for job in succeeded if job not in known]
        with_open = store.jobs_with_open_incidents(tx.conn, unknown) if unknown else set()
        with_open |= {job for job in succeeded if job in known and known[job].open_incident}
        for run, room_ids, was in changes:
            if run.status is not RunStatus.SUCCEEDED or run.job in with_open:
                self.on_run_status(tx, run, room_ids, was)

    def on_transitions(self, tx: Tx, said: list[tuple[str, str | None, str]]) -> None:
        """A MonitorService hook, for transitions told together, (job, run id, transition)
        each: missed, stalled and overdue may open incidents (the jobs with a rule are
        asked once); recovered resolves a stalled one."""
        events = sorted({job for job, _, transition in said if transition in rules.JOB_EVENTS})
        ruled = oncall_store.jobs_with_rules(tx.conn, events)
        for job, run_id, transition in said:
            if transition == "recovered":
                self._safely(tx, self._job_recovered, job, f"job:{job}:stalled")
            elif transition in rules.JOB_EVENTS and job in ruled:
                self._safely(tx, self._job_event, job, run_id, transition, "")

    def _safely(self, tx: Tx, fn: Any, *args: Any) -> None:
        # A job is never broken by its own monitoring: a failure here is logged, not raised.
        try:
            with tx.savepoint():
                fn(tx, *args)
        except Exception:
            log.exception("opening an incident for a job failed")

    def _job_event(self, tx: Tx, job: str, run_id: str | None, event: str, error: str) -> None:
        rule = oncall_store.job_rule(tx.conn, job)
        if rule is None or event not in rule.events:
            return
        service = oncall_store.by_id(tx.conn, incident_services, rule.service_id)
        job_row = oncall_store.by_name(tx.conn, jobs, job)
        summary = f"{job}: {event}" + (f" ({error[:200]})" if error else "")
        trigger = Trigger(
            summary=summary,
            origin="job",
            dedup_key=f"job:{job}:{event}",
            source=job,
            severity="critical" if event in ("failed", "lost", "missed") else "error",
            details={"job": job, "run_id": run_id, "event": event},
            runbook_url=job_row.runbook_url if job_row is not None else None,
            job=job,
            run_id=run_id,
        )
        self.trigger_in(tx, service, trigger, enforce_runbook=False)

    def _job_recovered(self, tx: Tx, job: str, only_key: str | None) -> None:
        for row in store.open_for_job(tx.conn, job):
            if only_key is None or row.dedup_key == only_key:
                self.act_in(tx, row, "resolve", "thereyet")

    # -- reading -------------------------------------------------------------------------------

    def of_run(self, who: Principal, run_id: str) -> list[dict[str, Any]]:
        """The incidents run `run_id` opened that `who` may read, newest first."""
        with self.hub.engines.read.connect() as conn:
            rows = store.of_run(conn, run_id)
        return [_summary(r) for r in rows if _may(who, Action.READ, r)]

    def list(
        self, who: Principal, *, status: str | None, service: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """The incidents `who` may read, newest first."""
        with self.hub.engines.read.connect() as conn:
            rows = store.search(conn, status=status, service=service, limit=limit)
        return [_summary(r) for r in rows if _may(who, Action.READ, r)]

    def get(self, who: Principal, incident_id: int) -> dict[str, Any]:
        with self.hub.engines.read.connect() as conn:
            row = store.get(conn, incident_id)
            if row is None or not _may(who, Action.READ, row):
                raise NotFound(f"no incident {incident_id}")
            return self._view(conn, row)

    def _view(self, conn: Connection, row: Any) -> dict[str, Any]:
        view = _summary(row)
        view["timeline"] = [
            {"at": iso(e.ts), "kind": e.kind, "actor": e.actor, "data": e.data}
            for e in store.events_of(conn, row.id)
        ]
        view["pages"] = [
            {
                "position": p.position,
                "person": p.person,
                "channel": p.channel,
                "at": iso(p.at),
                "out_of_hours": bool(p.out_of_hours),
                "deliveries": [
                    _delivery_of(d) for d in store.page_deliveries(conn, list(p.outbox_ids))
                ],
            }
            for p in store.pages_of(conn, row.id)
        ]
        return view

    # -- reassigning ---------------------------------------------------------------------------

    async def reassign(self, who: Principal, incident_id: int, person: str) -> dict[str, Any]:
        """Page `person` now about an open incident `who` may write, through their own
        contact methods and rules, and record who handed it over. The incident keeps its
        status; its escalation goes on as before."""

        def write(tx: Tx) -> dict[str, Any]:
            row = _writable(tx.conn, who, incident_id, "reassign")
            if row.status == IncidentStatus.RESOLVED.value:
                raise Conflict(f"incident {incident_id} is resolved", field="action")
            if oncall_store.by_name(tx.conn, oncall_people, person) is None:
                raise Invalid(f"no person named {person!r}", field="person")
            service = oncall_store.by_id(tx.conn, incident_services, row.service_id)
            position = max(row.paged_through, 0)
            self._page_person(tx, row, service, person, position, tx.now)
            store.add_event(tx.conn, row.id, tx.now, "reassigned", who.name, {"to": person})
            return self._view(tx.conn, store.get(tx.conn, incident_id))

        return await self.hub.writer.run(write)


def _may(who: Principal, action: Action, row: Any) -> bool:
    """Whether `who` may `action` the incident in `row`: inside its limits when it
    names the incident's job or its service's room."""
    rooms = [row.service_room] if row.service_room else []
    return who.may(Resource.INCIDENTS, action, job=row.job, rooms=rooms)


def _writable(conn: Connection, who: Principal, incident_id: int, verb: str) -> Any:
    """The incident `who` may `verb` (write); NotFound if they may not even read it."""
    row = store.get(conn, incident_id)
    if row is None or not _may(who, Action.READ, row):
        raise NotFound(f"no incident {incident_id}")
    if not _may(who, Action.WRITE, row):
        raise Forbidden(f"this {who.kind.value} may not {verb} incident {incident_id}")
    return row


def _delivery_of(row: Any) -> dict[str, Any]:
    """One message of a page: the method (channel `@person/method`, or a channel's name)."""
    method = row.channel.rsplit("/", 1)[-1] if row.channel.startswith("@") else row.channel
    return {
        "method": method,
        "status": row.status,
        "at": iso(row.sent_at or row.next_attempt_at),
        "error": row.last_error,
    }


def _summary(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "service": row.service,
        "status": row.status,
        "dedup_key": row.dedup_key,
        "summary": row.summary,
        "source": row.source,
        "severity": row.severity,
        "origin": row.origin,
        "group_key": row.group_key,
        "job": row.job,
        "run_id": row.run_id,
        "details": row.details,
        "links": row.links,
        "images": row.images,
        "runbook_url": row.runbook_url,
        "runbook_missing": not row.runbook_url,
        "triggered_at": iso(row.triggered_at),
        "acknowledged_at": iso(row.acknowledged_at),
        "acknowledged_by": row.acknowledged_by,
        "resolved_at": iso(row.resolved_at),
        "resolved_by": row.resolved_by,
        "next_escalation_at": iso(row.next_escalation_at),
    }
