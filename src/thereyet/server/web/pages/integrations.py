"""The Integrations page (admins): every inbound integration with its last deliveries;
a form to make one, answered with its URL and a sender's configuration, shown once;
delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...domain.policy import Action, Resource
from ...integrations.kinds import KINDS
from ...services.errors import ServiceError
from ..declare import uses
from .access import Viewer, check_csrf, signed_in
from .render import page

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
Text = Annotated[str, Form(max_length=200)]


def _page(request: Request, viewer: Viewer, status: int = 200, **extra: Any) -> HTMLResponse:
    state = request.app.state
    found = state.integrations.all()
    # What the configuration files manage is shown read-only, with the file that owns it.
    owners = {i["name"]: state.config.owner("integrations", i["name"]) for i in found}
    return page(
        request,
        "integrations.html",
        status,
        viewer=viewer,
        integrations=found,
        managed={name: owner[0] for name, owner in owners.items() if owner},
        services=[s["name"] for s in state.escalation.services()],
        kinds=KINDS,
        **extra,
    )


@router.get("/integrations", response_class=HTMLResponse)
@uses(Resource.INTEGRATIONS, Action.READ)
def integrations_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    return _page(request, viewer)


@router.post("/integrations", response_class=HTMLResponse)
@uses(Resource.INTEGRATIONS, Action.MANAGE)
async def create_integration(
    request: Request,
    viewer: SignedIn,
    csrf: Text,
    name: Text,
    kind: Text,
    room: Text = "",
    service: Text = "",
) -> HTMLResponse:
    """Make the integration and show its token, URL and sender configuration once, in
    this answer (never in a URL that gets logged)."""
    check_csrf(request, viewer, csrf)
    target = KINDS[kind].target if kind in KINDS else "room"
    try:
        made = await request.app.state.integrations.create(
            viewer.principal,
            name=name.strip(),
            kind=kind,
            room=room.strip() or None if target == "room" else None,
            service=service.strip() or None if target == "service" else None,
        )
    except ServiceError as exc:
        form = {"name": name, "kind": kind, "room": room, "service": service}
        error = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return _page(request, viewer, exc.status, error=error, form=form)
    return _page(request, viewer, 201, created=made)


@router.post("/integrations/{name}/delete")
@uses(Resource.INTEGRATIONS, Action.MANAGE)
async def delete_integration(
    request: Request, name: str, viewer: SignedIn, csrf: Annotated[str, Form()]
) -> Response:
    check_csrf(request, viewer, csrf)
    await request.app.state.integrations.delete(name)
    return RedirectResponse("/integrations", status_code=303)
