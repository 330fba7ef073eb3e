"""Prometheus Alertmanager's webhook (version 4): `POST /api/v1/alerts/{token}/alertmanager`.

One incident per alert fingerprint, keyed `am:<fingerprint>` and labelled with
the notification's groupKey; a resolved alert resolves its incident. The whole
notification is applied in one transaction: all of it or none of it. Each
notification spends one token of the integration's rate limit (429 with
Retry-After when none is left; Alertmanager sends it again later).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from ...domain.incidents import SEVERITIES
from ...domain.policy import Action, Resource
from ...services.alert_events import AlertEvent, apply_alert_events
from ...services.incidents import IncidentService, Trigger
from ..answers import answer
from ..api.oncall_answers import AlertmanagerOut
from ..auth import uses
from .alert_sources import documented_body, integrations_of, read_body

router = APIRouter(tags=["compatible"])

Labels = dict[str, str]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class Alert(_Lenient):
    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Labels = {}
    startsAt: str = ""  # Alertmanager's own field names
    endsAt: str = ""
    generatorURL: str = ""
    fingerprint: Annotated[str, Field(min_length=1, max_length=200)]


class Notification(_Lenient):
    version: Literal["4"]
    groupKey: Annotated[str, Field(min_length=1, max_length=10000)]
    status: Literal["firing", "resolved"]
    receiver: str = ""
    externalURL: str = ""
    alerts: Annotated[list[Alert], Field(max_length=1000)]


def trigger_of(note: Notification, index: int) -> Trigger:
    alert = note.alerts[index]
    name = alert.labels.get("alertname", "alert")
    summary = alert.annotations.get("summary") or alert.annotations.get("description") or name
    severity = alert.labels.get("severity", "error")
    return Trigger(
        summary=f"{name}: {summary}"[:1024] if summary != name else name,
        origin="alertmanager",
        dedup_key=f"am:{alert.fingerprint}",
        source=(alert.labels.get("instance") or alert.labels.get("job") or note.receiver)[:255],
        severity=severity if severity in SEVERITIES else "error",
        details={
            "labels": alert.labels,
            "annotations": alert.annotations,
            "startsAt": alert.startsAt,
        },
        links=[{"href": alert.generatorURL, "text": "Source"}] if alert.generatorURL else [],
        runbook_url=alert.annotations.get("runbook_url") or None,
        group_key=note.groupKey,
        runbook_field=f"alerts.{index}.annotations.runbook_url",
    )


@router.post(
    "/api/v1/alerts/{token}/alertmanager",
    response_model=answer(AlertmanagerOut),
    summary="Prometheus Alertmanager webhook v4",
    openapi_extra=documented_body(Notification),
)
@uses(Resource.INCIDENTS, Action.WRITE)
async def alertmanager(token: str, request: Request) -> dict[str, Any]:
    integration = await integrations_of(request).alert_source(token, "alertmanager")
    note = await read_body(request, Notification, integration)
    incidents: IncidentService = request.app.state.incidents
    await incidents.limiter.admit(integration.id, integration.name)

    events = [
        AlertEvent("trigger", trigger=trigger_of(note, index))
        if alert.status == "firing"
        else AlertEvent("resolve", key=f"am:{alert.fingerprint}")
        for index, alert in enumerate(note.alerts)
    ]
    applied = await apply_alert_events(incidents, integration, events, "alertmanager", status=200)
    opened = [a.incident_id for a in applied if a.incident_id is not None]
    return {"incidents": opened, "resolved": sum(a.changed for a in applied)}
