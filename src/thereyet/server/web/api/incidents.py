"""/api/v1: incidents (list, read, open, acknowledge, resolve), our own inbound alert
format, and the signed one-click links that pages carry."""

from __future__ import annotations

import html
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from ...domain.incidents import SEVERITIES
from ...domain.names import NAME_PATTERN
from ...domain.policy import Action, Resource
from ...services.alert_events import AlertEvent, apply_alert_events
from ...services.errors import Invalid
from ...services.incidents import IncidentService, Trigger
from ..answers import answer
from ..auth import Reader, Writer, uses
from ..bounds import RowId, Stamp
from ..compat.alert_sources import documented_body, integrations_of, read_body
from ..pages.render import SECURITY_HEADERS
from .oncall_answers import (
    AlertActedOut,
    AlertTriggeredOut,
    IncidentDetailOut,
    IncidentListOut,
    OpenedIncidentOut,
)
from .schemas import WebUrl

router = APIRouter(tags=["incidents"])
links = APIRouter(tags=["incidents"], include_in_schema=False)
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
Severity = Literal["critical", "error", "warning", "info"]
assert set(SEVERITIES) == {"critical", "error", "warning", "info"}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IncidentIn(_Body):
    service: Name
    summary: Annotated[str, Field(min_length=1, max_length=1024)]
    dedup_key: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    severity: Severity = "error"
    source: Annotated[str, Field(max_length=255)] = ""
    details: dict[str, Any] = {}
    runbook_url: WebUrl | None = None


class LinkIn(_Body):
    href: WebUrl
    text: Annotated[str, Field(max_length=1000)] = ""


class EventIn(_Body):
    """Our own inbound format: one event, like PagerDuty's but flat."""

    action: Literal["trigger", "acknowledge", "resolve"]
    key: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    summary: Annotated[str, Field(min_length=1, max_length=1024)] | None = None
    severity: Severity = "error"
    source: Annotated[str, Field(max_length=255)] = ""
    details: dict[str, Any] = {}
    links: Annotated[list[LinkIn], Field(max_length=20)] = []
    runbook_url: WebUrl | None = None


def _incidents(request: Request) -> IncidentService:
    service: IncidentService = request.app.state.incidents
    return service


@router.get("/incidents", response_model=answer(IncidentListOut), summary="Incidents, newest first")
@uses(Resource.INCIDENTS, Action.READ)
def list_incidents(
    who: Reader,
    request: Request,
    status: Literal["triggered", "acknowledged", "resolved"] | None = None,
    service: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    found = _incidents(request).list(who, status=status, service=service, limit=limit)
    return {"incidents": found}


@router.get(
    "/incidents/{incident_id}",
    response_model=answer(IncidentDetailOut),
    summary="An incident with its timeline and pages",
)
@uses(Resource.INCIDENTS, Action.READ)
def get_incident(incident_id: RowId, who: Reader, request: Request) -> dict[str, Any]:
    return _incidents(request).get(who, incident_id)


@router.post(
    "/incidents",
    response_model=answer(OpenedIncidentOut),
    status_code=201,
    summary="Open an incident by hand",
)
@uses(Resource.INCIDENTS, Action.WRITE)
async def open_incident(body: IncidentIn, who: Writer, request: Request) -> dict[str, Any]:
    trigger = Trigger(
        summary=body.summary,
        origin="api",
        dedup_key=body.dedup_key,
        source=body.source or who.name,
        severity=body.severity,
        details=body.details,
        runbook_url=body.runbook_url,
    )
    opened = await _incidents(request).trigger(who, body.service, trigger)
    return {**_incidents(request).get(who, opened.incident_id), "created": opened.created}


@router.post(
    "/incidents/{incident_id}/acknowledge",
    response_model=answer(IncidentDetailOut),
    summary="Acknowledge: stop escalating",
)
@uses(Resource.INCIDENTS, Action.WRITE)
async def acknowledge(incident_id: RowId, who: Writer, request: Request) -> dict[str, Any]:
    return await _incidents(request).act(who, incident_id, "acknowledge")


@router.post(
    "/incidents/{incident_id}/resolve",
    response_model=answer(IncidentDetailOut),
    summary="Resolve: the incident is over",
)
@uses(Resource.INCIDENTS, Action.WRITE)
async def resolve(incident_id: RowId, who: Writer, request: Request) -> dict[str, Any]:
    return await _incidents(request).act(who, incident_id, "resolve")


@router.post(
    "/alerts/{token}",
    response_model=answer(AlertTriggeredOut, AlertActedOut),
    status_code=202,
    summary="Our own inbound alert format",
    openapi_extra=documented_body(EventIn),
)
@uses(Resource.INCIDENTS, Action.WRITE)
async def inbound_event(token: str, request: Request) -> dict[str, Any]:
    integration = await integrations_of(request).alert_source(token, "generic")
    body = await read_body(request, EventIn, integration)
    try:
        _check_event(body)
    except Invalid as exc:
        await integrations_of(request).refused(integration, 422, f"{exc.field}: {exc.message}")
        raise
    incidents = _incidents(request)
    await incidents.limiter.admit(integration.id, integration.name)

    if body.action == "trigger":
        trigger = Trigger(
            summary=body.summary or "",
            origin="generic",
            dedup_key=body.key,
            source=body.source or integration.name,
            severity=body.severity,
            details=body.details,
            links=[link.model_dump() for link in body.links],
            runbook_url=body.runbook_url,
        )
        [opened] = await apply_alert_events(
            incidents, integration, [AlertEvent("trigger", trigger=trigger)], integration.name
        )
        return {"key": opened.key, "incident": opened.incident_id}
    event = AlertEvent(body.action, key=body.key)
    [acted] = await apply_alert_events(incidents, integration, [event], integration.name)
    return {"key": acted.key, "changed": acted.changed}


def _check_event(body: EventIn) -> None:
    if body.action == "trigger" and not body.summary:
        raise Invalid("a trigger needs a summary", field="summary")
    if body.action != "trigger" and not body.key:
        raise Invalid(f"{body.action} needs the key of the incident", field="key")


# -- one-click links -------------------------------------------------------------------


def _html(title: str, text: str, form: str = "") -> HTMLResponse:
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(text)}</p>{form}</body></html>"
    )
    return HTMLResponse(page, headers=SECURITY_HEADERS)


@links.get("/incidents/{incident_id}/{action}")
@uses(Resource.INCIDENTS, Action.WRITE)
async def confirm_link(
    incident_id: RowId,
    action: Literal["acknowledge", "resolve"],
    request: Request,
    person: str,
    expires: Stamp,
    sig: str,
) -> HTMLResponse:
    # A GET only shows a button: link previewers and mail scanners must not page anyone off.
    incident = await _incidents(request).check_link(incident_id, action, person, expires, sig)
    form = (
        "<form method='post'><button type='submit'>"
        f"{html.escape(action.capitalize())}</button></form>"
    )
    return _html(f"Incident #{incident_id}", incident["summary"], form)


@links.post("/incidents/{incident_id}/{action}")
@uses(Resource.INCIDENTS, Action.WRITE)
async def use_link(
    incident_id: RowId,
    action: Literal["acknowledge", "resolve"],
    request: Request,
    person: str,
    expires: Stamp,
    sig: str,
) -> HTMLResponse:
    found = await _incidents(request).act_by_link(incident_id, action, person, expires, sig)
    return _html(f"Incident #{incident_id} {found['status']}", found["summary"])


__all__ = ["links", "router"]
