"""Events from an alert source (PagerDuty, Alertmanager, our own format), applied at once.

The transports parse their format into AlertEvents; this applies a list of them
for one integration in one transaction (all of it or none of it): a trigger
opens an incident on the integration's service or folds into the open one with
its key, an acknowledge or resolve acts on the open incident with that key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..store import oncall as oncall_store
from ..store.tables import incident_services
from ..store.writer import Tx
from .errors import ServiceError
from .incidents import IncidentService, Trigger
from .integrations import record_in, refused


@dataclass(frozen=True)
class AlertEvent:
    action: str  # trigger | acknowledge | resolve
    key: str | None = None  # the dedup key (a trigger without one gets a new key)
    trigger: Trigger | None = None  # what a trigger says


@dataclass(frozen=True)
class Applied:
    key: str
    incident_id: int | None = None  # a trigger: the incident it opened or joined
    changed: bool = False  # an acknowledge or resolve: whether an open incident had the key


async def apply_alert_events(
    incidents: IncidentService,
    integration: Any,
    events: list[AlertEvent],
    actor: str,
    *,
    status: int = 202,
) -> list[Applied]:
    """Apply `events` from `integration` (an integration row) in one transaction, with
    the record of the delivery (answered `status`); a refusal is recorded instead."""

    def write(tx: Tx) -> list[Applied]:
        service = oncall_store.by_id(tx.conn, incident_services, integration.service_id)
        done: list[Applied] = []
        for event in events:
            if event.trigger is not None:
                opened = incidents.trigger_in(tx, service, event.trigger, enforce_runbook=True)
                done.append(Applied(opened.dedup_key, incident_id=opened.incident_id))
            else:
                assert event.key is not None
                changed = incidents.act_by_key(tx, service.id, event.key, event.action, actor)
                done.append(Applied(event.key, changed=changed))
        record_in(tx, integration.id, status, summary(events))
        return done

    try:
        applied: list[Applied] = await incidents.hub.writer.run(write)
    except ServiceError as exc:
        await refused(incidents.hub, integration, exc.status, _reason(exc))
        raise
    return applied


def summary(events: list[AlertEvent]) -> str:
    """'2 trigger, 1 resolve': what a delivery asked for, by action."""
    counts: dict[str, int] = {}
    for event in events:
        counts[event.action] = counts.get(event.action, 0) + 1
    return ", ".join(f"{n} {action}" for action, n in counts.items()) or "no alerts"


def _reason(exc: ServiceError) -> str:
    return f"{exc.field}: {exc.message}" if exc.field else exc.message
