"""Escalation setup: policies, incident services and job rules.

A policy says who is paged and when; a service ties incidents to a room, a
policy and a runbook rule; a job rule says which of a job's events page through
which service. Policies, services and job rules are replaced whole with PUT-style
calls, like the rest of the on-call configuration. The alert sources that open
incidents on a service are integrations (services/integrations.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from ..domain.incidents import JOB_EVENTS, EscalationError, Policy
from ..hub import Hub
from ..store import oncall as store
from ..store.tables import (
    channels,
    escalation_policies,
    incident_services,
    jobs,
    oncall_people,
    rotations,
)
from ..store.writer import Tx
from .errors import Invalid
from .oncall_rows import invalid, policy_of, row_named
from .rooms import check_name


class EscalationService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    # -- escalation policies and services ------------------------------------------------------

    async def put_policy(
        self, name: str, steps: list[dict[str, Any]], repeat: int
    ) -> dict[str, Any]:
        check_name(name, "name")
        policy = policy_of(_Row(name=name, steps=steps, repeat=repeat))
        try:
            policy.check()
        except EscalationError as exc:
            raise invalid(exc) from exc

        def write(tx: Tx) -> dict[str, Any]:
            self._check_targets(tx.conn, policy)
            row = store.by_name(tx.conn, escalation_policies, name)
            if row is None:
                store.insert_row(
                    tx.conn,
                    escalation_policies,
                    name=name,
                    steps=steps,
                    repeat=repeat,
                    created_at=tx.now,
                )
            else:
                store.update_row(tx.conn, escalation_policies, row.id, steps=steps, repeat=repeat)
            return {"name": name, "steps": steps, "repeat": repeat}

        return await self.hub.writer.run(write)

    def _check_targets(self, conn: Connection, policy: Policy) -> None:
        for i, step in enumerate(policy.steps):
            for j, target in enumerate(step.targets):
                table = {
                    "rotation": rotations,
                    "person": oncall_people,
                    "channel": channels,
                }[target.kind]
                if store.by_name(conn, table, target.name) is None:
                    raise Invalid(
                        f"no {target.kind} named {target.name!r}",
                        field=f"steps.{i}.targets.{j}.name",
                    )

    def policies(self) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            return [
                {"name": r.name, "steps": r.steps, "repeat": r.repeat}
                for r in store.all_rows(conn, escalation_policies)
            ]

    async def put_service(
        self,
        name: str,
        *,
        room: str | None,
        policy: str | None,
        runbook_url: str | None,
        require_runbook: bool,
    ) -> dict[str, Any]:
        check_name(name, "name")
        if room is not None:
            check_name(room, "room")

        def write(tx: Tx) -> dict[str, Any]:
            policy_id = None
            if policy is not None:
                policy_id = row_named(tx.conn, escalation_policies, policy, "policy").id
            values = {
                "room": room,
                "policy_id": policy_id,
                "runbook_url": runbook_url,
                "require_runbook": int(require_runbook),
            }
            row = store.by_name(tx.conn, incident_services, name)
            if row is None:
                store.insert_row(tx.conn, incident_services, name=name, created_at=tx.now, **values)
            else:
                store.update_row(tx.conn, incident_services, row.id, **values)
            return {"name": name, "policy": policy, **values, "require_runbook": require_runbook}

        return await self.hub.writer.run(write)

    def services(self) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            policies = {r.id: r.name for r in store.all_rows(conn, escalation_policies)}
            return [
                {
                    "name": r.name,
                    "room": r.room,
                    "policy": policies.get(r.policy_id),
                    "runbook_url": r.runbook_url,
                    "require_runbook": bool(r.require_runbook),
                }
                for r in store.all_rows(conn, incident_services)
            ]

    # -- job rules -----------------------------------------------------------

    async def put_job_rule(self, job: str, service: str, events: list[str]) -> dict[str, Any]:
        check_name(job, "job")
        if not events:
            events = list(JOB_EVENTS)
        if bad := [e for e in events if e not in JOB_EVENTS]:
            raise Invalid(
                f"unknown event {bad[0]!r}; known: {', '.join(JOB_EVENTS)}", field="events"
            )

        def write(tx: Tx) -> dict[str, Any]:
            row = row_named(tx.conn, incident_services, service, "service")
            job_row = store.by_name(tx.conn, jobs, job)
            if (
                row.require_runbook
                and not (job_row and job_row.runbook_url)
                and not row.runbook_url
            ):
                raise Invalid(
                    f"service {service!r} requires a runbook: give job {job!r} a runbook_url",
                    field="job",
                )
            store.put_job_rule(tx.conn, job, row.id, sorted(set(events)), tx.now)
            return {"job": job, "service": service, "events": sorted(set(events))}

        return await self.hub.writer.run(write)

    def job_rules(self) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            return [
                {"job": r.job, "service": r.service, "events": r.events}
                for r in store.job_rules(conn)
            ]


@dataclass(frozen=True)
class _Row:
    name: str
    steps: list[dict[str, Any]]
    repeat: int
