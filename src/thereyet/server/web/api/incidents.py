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
from ...services.errors import Invalid, NotFound
from ...services.escalation import EscalationService
from ...services.incidents import IncidentService, Trigger
from ...store import oncall as oncall_store
from ...store.tables import incident_services
from ...store.writer import Tx
from ..auth import Reader, Writer
from ..pages.render import SECURITY_HEADERS

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
    runbook_url: Annotated[str, Field(max_length=2000)] | None = None


class EventIn(_Body):
    """Our own inbound format: one event, like PagerDuty's but flat."""

    action: Literal["trigger", "acknowledge", "resolve"]
    key: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    summary: Annotated[str, Field(min_length=1, max_length=1024)] | None = None
    severity: Severity = "error"
    source: Annotated[str, Field(max_length=255)] = ""
    details: dict[str, Any] = {}
    links: Annotated[list[dict[str, str]], Field(max_length=20)] = []
    runbook_url: Annotated[str, Field(max_length=2000)] | None = None


def _incidents(request: Request) -> IncidentService:
    service: IncidentService = request.app.state.incidents
    return service


@router.get("/incidents", summary="Incidents, newest first")
def list_incidents(
    who: Reader,
    request: Request,
    status: Literal["triggered", "acknowledged", "resolved"] | None = None,
    service: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    found = _incidents(request).list(status=status, service=service, limit=limit)
    return {"incidents": found}


@router.get("/incidents/{incident_id}", summary="An incident with its timeline and pages")
def get_incident(incident_id: int, who: Reader, request: Request) -> dict[str, Any]:
    return _incidents(request).get(incident_id)


@router.post("/incidents", status_code=201, summary="Open an incident by hand")
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
    opened = await _incidents(request).trigger(body.service, trigger)
    return {**_incidents(request).get(opened.incident_id), "created": opened.created}


@router.post("/incidents/{incident_id}/acknowledge", summary="Acknowledge: stop escalating")
async def acknowledge(incident_id: int, who: Writer, request: Request) -> dict[str, Any]:
    return await _incidents(request).act(incident_id, "acknowledge", who.name)


@router.post("/incidents/{incident_id}/resolve", summary="Resolve: the incident is over")
async def resolve(incident_id: int, who: Writer, request: Request) -> dict[str, Any]:
    return await _incidents(request).act(incident_id, "resolve", who.name)


@router.post("/alerts/{token}", status_code=202, summary="Our own inbound alert format")
async def inbound_event(token: str, body: EventIn, request: Request) -> dict[str, Any]:
    escalation: EscalationService = request.app.state.escalation
    integration = escalation.integration(token)
    if integration is None or integration.kind != "generic":
        raise NotFound("unknown integration token", field="token")
    if body.action == "trigger" and not body.summary:
        raise Invalid("a trigger needs a summary", field="summary")
    if body.action != "trigger" and not body.key:
        raise Invalid(f"{body.action} needs the key of the incident", field="key")
    incidents = _incidents(request)
    await incidents.limiter.admit(integration.id, integration.name)

    def write(tx: Tx) -> dict[str, Any]:
        if body.action == "trigger":
            service = oncall_store.by_id(tx.conn, incident_services, integration.service_id)
            trigger = Trigger(
                summary=body.summary or "",
                origin="generic",
                dedup_key=body.key,
                source=body.source or integration.name,
                severity=body.severity,
                details=body.details,
                links=list(body.links),
                runbook_url=body.runbook_url,
            )
            opened = incidents.trigger_in(tx, service, trigger, enforce_runbook=True)
            return {"key": opened.dedup_key, "incident": opened.incident_id}
        assert body.key is not None
        found = incidents.act_by_key(
            tx, integration.service_id, body.key, body.action, integration.name
        )
        return {"key": body.key, "changed": found}

    done: dict[str, Any] = await request.app.state.hub.writer.run(write)
    return done


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
async def confirm_link(
    incident_id: int,
    action: Literal["acknowledge", "resolve"],
    request: Request,
    person: str,
    expires: int,
    sig: str,
) -> HTMLResponse:
    # A GET only shows a button: link previewers and mail scanners must not page anyone off.
    await _incidents(request).check_link(incident_id, action, person, expires, sig)
    incident = _incidents(request).get(incident_id)
    form = (
        "<form method='post'><button type='submit'>"
        f"{html.escape(action.capitalize())}</button></form>"
    )
    return _html(f"Incident #{incident_id}", incident["summary"], form)


@links.post("/incidents/{incident_id}/{action}")
async def use_link(
    incident_id: int,
    action: Literal["acknowledge", "resolve"],
    request: Request,
    person: str,
    expires: int,
    sig: str,
) -> HTMLResponse:
    found = await _incidents(request).act_by_link(incident_id, action, person, expires, sig)
    return _html(f"Incident #{incident_id} {found['status']}", found["summary"])


__all__ = ["links", "router"]
