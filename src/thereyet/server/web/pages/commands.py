"""The commands page: the ChatOps commands you may run, and what recent ones did."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...domain.policy import Action, Resource
from ...services.command_config import spec_view
from ..declare import uses
from .access import Viewer, signed_in
from .render import page

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
RECENT = 30


@router.get("/commands", response_class=HTMLResponse)
@uses(Resource.COMMANDS, Action.READ)
def commands_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    service = request.app.state.commands
    specs = sorted(service.visible(viewer.principal, None), key=lambda s: s.name)
    return page(
        request,
        "commands.html",
        viewer=viewer,
        commands=[spec_view(spec) for spec in specs],
        records=service.records(viewer.principal, None, RECENT),
        config_error=service.config_error(viewer.principal),
    )
