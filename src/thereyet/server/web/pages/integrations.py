"""The Integrations page (admins): every inbound integration with its last deliveries;
a form to make one, answered with its URL and a sender's configuration, shown once;
delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.policy import Action, Resource
from ...integrations.kinds import KINDS
from ...services.errors import ServiceError
from ..declare import uses
from .access import Viewer, signed_in
from .forms import answer, form_page, read_form

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
LIMIT = 200  # characters in any field of the form


def _page(
    request: Request,
    viewer: Viewer,
    exc: ServiceError | None = None,
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    state = request.app.state
    found = state.integrations.all()
    # What the configuration files manage is shown read-only, with the file that owns it.
    owners = {i["name"]: state.config.owner("integrations", i["name"]) for i in found}
    return form_page(
        request,
        "integrations.html",
        viewer,
        exc,
        status,
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
async def create_integration(request: Request, viewer: SignedIn) -> HTMLResponse:
    """Make the integration and show its token, URL and sender configuration once, in
    this answer (never in a URL that gets logged).

    Not `answer`: success shows the page (201, with the token), not a redirect."""
    form = await read_form(request, viewer)
    try:
        kind = form.text("kind", required=False, limit=LIMIT)
        target = KINDS[kind].target if kind in KINDS else "room"
        room = form.text("room", required=False, limit=LIMIT) or None
        service = form.text("service", required=False, limit=LIMIT) or None
        made = await request.app.state.integrations.create(
            viewer.principal,
            name=form.text("name", required=False, limit=LIMIT),
            kind=kind,
            room=room if target == "room" else None,
            service=service if target == "service" else None,
        )
    except ServiceError as exc:
        typed = form.typed("name", "kind", "room", "service")
        return _page(request, viewer, exc, form=typed)
    return _page(request, viewer, status=201, created=made)


@router.post("/integrations/{name}/delete")
@uses(Resource.INTEGRATIONS, Action.MANAGE)
async def delete_integration(request: Request, name: str, viewer: SignedIn) -> Response:
    await read_form(request, viewer)
    return await answer(
        lambda: request.app.state.integrations.delete(name),
        "/integrations",
        lambda exc: _page(request, viewer, exc),
    )
