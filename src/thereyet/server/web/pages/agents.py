"""The agents page: each agent (host, tags, version, slots in use, its runs, last seen),
the queue with positions, cancelling a run from the web, and removing an agent (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.policy import Action, Resource
from ...services.errors import ServiceError
from ..api.agents import AGENT_NAME
from ..api.schemas import RUN_ID_PATTERN
from ..declare import uses
from .access import Viewer, check_csrf, signed_in
from .forms import answer, form_page

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]


def _agents_page(request: Request, viewer: Viewer, exc: ServiceError | None = None) -> HTMLResponse:
    found = request.app.state.agents.overview(viewer.principal)
    return form_page(request, "agents.html", viewer, exc, **found)


@router.get("/agents", response_class=HTMLResponse)
@uses(Resource.AGENTS, Action.READ)
def agents_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    return _agents_page(request, viewer)


@router.post("/agents/cancel/{run_id}")
@uses(Resource.RUNS, Action.WRITE)
async def cancel(
    request: Request,
    run_id: Annotated[str, Path(pattern=RUN_ID_PATTERN)],
    viewer: SignedIn,
    csrf: Annotated[str, Form()],
) -> Response:
    check_csrf(request, viewer, csrf)
    return await answer(
        lambda: request.app.state.agents.cancel(viewer.principal, run_id),
        "/agents",
        lambda exc: _agents_page(request, viewer, exc),
    )


@router.post("/agents/remove/{name}")
@uses(Resource.AGENTS, Action.MANAGE)
async def remove(
    request: Request,
    name: Annotated[str, Path(pattern=AGENT_NAME)],
    viewer: SignedIn,
    csrf: Annotated[str, Form()],
) -> Response:
    check_csrf(request, viewer, csrf)
    return await answer(
        lambda: request.app.state.agents.remove(viewer.principal, name),
        "/agents",
        lambda exc: _agents_page(request, viewer, exc),
    )
