"""Events from an alert source (PagerDuty, Alertmanager, our own format), applied at once.

The transports parse their format into AlertEvents; this applies a list of them
for one integration in one transaction (all of it or none of it): a trigger
opens an incident on the integration's service or folds into the open one with
its key, an acknowledge or resolve acts on the open incident with that key.
Deliveries that arrive together are made together, in the writer's groups.
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


@dataclass(frozen=True)
class _Delivery:
    """One request's events from one integration: a change of its own to its sender."""

    incidents: IncidentService
    integration: Any  # an integration row
    events: list[AlertEvent]
    actor: str
    status: int  # what the delivery is answered, kept with its record


async def apply_alert_events(
    incidents: IncidentService,
    integration: Any,
    events: list[AlertEvent],
    actor: str,
    *,
    status: int = 202,
) -> list[Applied]:
    """Apply `events` from `integration` (an integration row) in one transaction, with
    the record of the delivery (answered `status`); a refusal is recorded instead.

    Deliveries handed in together (a burst of alerts) are made in one batch of the
    writer's group, each in a part of its own: one refused (a service that requires
    a runbook link) leaves its neighbours' recorded, and the group shares its
    look-ups of the services."""
    delivery = _Delivery(incidents, integration, events, actor, status)
    try:
        applied: list[Applied] = await incidents.hub.writer.run_batched(
            _together, delivery, lambda tx: _apply(tx, delivery)
        )
    except ServiceError as exc:
        await refused(incidents.hub, integration, exc.status, _reason(exc))
        raise
    return applied


def _together(tx: Tx, deliveries: list[_Delivery]) -> list[Any]:
    """The writer's batch handler for alert deliveries."""
    return tx.each_apart(deliveries, _apply, (ServiceError,))


_SERVICES = "alert_events.services"  # a key of Tx.memo: {service id: its row}


def _apply(tx: Tx, delivery: _Delivery) -> list[Applied]:
    incidents, service_id = delivery.incidents, delivery.integration.service_id
    services = tx.memo.setdefault(_SERVICES, {})
    service = services.get(service_id)
    if service is None:
        service = services[service_id] = oncall_store.by_id(tx.conn, incident_services, service_id)
    done: list[Applied] = []
    for event in delivery.events:
        if event.trigger is not None:
            opened = incidents.trigger_in(tx, service, event.trigger, enforce_runbook=True)
            done.append(Applied(opened.dedup_key, incident_id=opened.incident_id))
        else:
            assert event.key is not None
            changed = incidents.act_by_key(tx, service.id, event.key, event.action, delivery.actor)
            done.append(Applied(event.key, changed=changed))
    record_in(tx, delivery.integration.id, delivery.status, summary(delivery.events))
    return done


def summary(events: list[AlertEvent]) -> str:
    """'2 trigger, 1 resolve': what a delivery asked for, by action."""
    counts: dict[str, int] = {}
    for event in events:
        counts[event.action] = counts.get(event.action, 0) + 1
    return ", ".join(f"{n} {action}" for action, n in counts.items()) or "no alerts"


def _reason(exc: ServiceError) -> str:
    return f"{exc.field}: {exc.message}" if exc.field else exc.message
