"""The incidents page: what is open, and acknowledging or resolving it from the web."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...domain.policy import Action, Resource
from ..bounds import RowId
from ..declare import uses
from .access import Viewer, check_csrf, signed_in
from .render import page

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]


@router.get("/incidents", response_class=HTMLResponse)
@uses(Resource.INCIDENTS, Action.READ)
def incidents_page(request: Request, viewer: SignedIn, status: str = "") -> HTMLResponse:
    chosen = status if status in ("triggered", "acknowledged", "resolved") else None
    found = request.app.state.incidents.list(
        viewer.principal, status=chosen, service=None, limit=200
    )
    return page(request, "incidents.html", viewer=viewer, incidents=found, wanted=status)


@router.post("/incidents/{incident_id}")
@uses(Resource.INCIDENTS, Action.WRITE)
async def act(
    request: Request,
    incident_id: RowId,
    viewer: SignedIn,
    action: Annotated[Literal["acknowledge", "resolve", "reassign"], Form()],
    csrf: Annotated[str, Form()],
    person: Annotated[str, Form(max_length=64)] = "",
    back: Annotated[Literal["list", "incident"], Form()] = "list",
) -> Response:
    """Acknowledge, resolve or reassign (page `person`), then back to the list or the page."""
    check_csrf(request, viewer, csrf)
    service = request.app.state.incidents
    if action == "reassign":
        await service.reassign(viewer.principal, incident_id, person)
    else:
        await service.act(viewer.principal, incident_id, action)
    target = f"/incidents/{incident_id}" if back == "incident" else "/incidents"
    return RedirectResponse(target, status_code=303)
