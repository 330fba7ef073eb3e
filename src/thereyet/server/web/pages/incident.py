"""An incident's page: what happened, who was paged by which method, and the buttons.

Acknowledge, resolve and reassign post to `/incidents/{id}` (pages/incidents.py),
which brings the person back here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...domain.policy import Action, Resource
from ..bounds import RowId
from ..declare import uses
from .access import Viewer, signed_in
from .forms import may
from .render import page

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]

_SAID = {
    "triggered": "triggered",
    "notified": "paged step 1",
    "escalated": "escalated",
    "acknowledged": "acknowledged",
    "resolved": "resolved",
    "reassigned": "reassigned",
    "deduplicated": "another alert folded in",
    "unpaged": "nobody on call to page",
}


def _event_text(event: dict[str, Any]) -> str:
    """One line of the timeline, in words."""
    data = event["data"] or {}
    kind = str(event["kind"])
    said = str(_SAID.get(kind, kind))
    if kind == "escalated":
        said = f"escalated to step {int(data.get('position', 0)) + 1}"
    if kind in ("notified", "escalated"):
        targets = ", ".join(t.split(":", 1)[-1] for t in data.get("targets", []))
        return f"{said}: {targets or 'nobody'}"
    if kind == "reassigned":
        return f"reassigned to {data.get('to')} by {event['actor']}"
    if kind in ("acknowledged", "resolved"):
        told = f" ({data['told']} told)" if data.get("told") else ""
        return f"{said} by {event['actor']}{told}"
    if kind == "unpaged":
        return f"{said} in rotation {data.get('rotation')}"
    if kind == "deduplicated":
        return f"{said} (from {data.get('also_from') or event['actor']})"
    return said


def _grouped(incident: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in incident["timeline"] if e["kind"] == "deduplicated"]


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
@uses(Resource.INCIDENTS, Action.READ)
def incident_page(request: Request, incident_id: RowId, viewer: SignedIn) -> HTMLResponse:
    incident = request.app.state.incidents.get(viewer.principal, incident_id)
    service = next(
        (s for s in request.app.state.escalation.services() if s["name"] == incident["service"]),
        None,
    )
    may_act = may(viewer, Resource.INCIDENTS, Action.WRITE) and not viewer.read_only
    people = [p["name"] for p in request.app.state.oncall.people()] if may_act else []
    return page(
        request,
        "oncall_incident.html",
        viewer=viewer,
        incident=incident,
        room=service["room"] if service else None,
        timeline=[{**e, "text": _event_text(e)} for e in incident["timeline"]],
        grouped=_grouped(incident),
        may_act=may_act,
        people=people,
    )
