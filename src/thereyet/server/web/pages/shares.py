"""Admin pages: read-only share links, and what a visitor with one sees."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...domain.policy import Action, Resource
from ..declare import uses
from .access import Viewer, check_csrf, shared, signed_in
from .render import page
from .rooms import room_context
from .runs import job_context

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]


@router.get("/share/{token}", response_class=HTMLResponse)
@uses(Resource.RUNS, Action.READ)
def share_page(request: Request, token: str) -> HTMLResponse:
    viewer = shared(request, token)
    share = viewer.share
    if share.kind == "room":
        context = room_context(request, viewer, share.target)
        return page(request, "room.html", viewer=viewer, share_token=token, **context)
    context = job_context(request, viewer, share.target)
    return page(request, "job.html", viewer=viewer, share_token=token, **context)


def _shares_page(request: Request, viewer: Viewer, created: str = "") -> HTMLResponse:
    shares = request.app.state.shares.all(viewer.principal)
    return page(request, "shares.html", viewer=viewer, shares=shares, created=created)


@router.get("/shares", response_class=HTMLResponse)
@uses(Resource.SHARES, Action.MANAGE)
def shares_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    return _shares_page(request, viewer)


@router.post("/rooms/{name}/share", response_class=HTMLResponse)
@uses(Resource.SHARES, Action.MANAGE)
async def share_room(
    request: Request, name: str, viewer: SignedIn, csrf: Annotated[str, Form()]
) -> HTMLResponse:
    """Create a link and show it once, in this answer (never in a URL that gets logged)."""
    check_csrf(request, viewer, csrf)
    _token, view = await request.app.state.shares.create(viewer.principal, "room", name)
    return _shares_page(request, viewer, created=view["url"])


@router.post("/shares/{share_id}/revoke")
@uses(Resource.SHARES, Action.MANAGE)
async def revoke(
    request: Request, share_id: str, viewer: SignedIn, csrf: Annotated[str, Form()]
) -> Response:
    check_csrf(request, viewer, csrf)
    await request.app.state.shares.revoke(viewer.principal, share_id)
    return RedirectResponse("/shares", status_code=303)
