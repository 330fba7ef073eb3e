"""The channels page (admins): where notifications go, whether they got there, a test.

Channels the configuration files manage, and people's contact methods, are shown
read-only; the others can be added, tested and removed here as through the API.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...domain.policy import Action, Resource
from ...services.errors import ServiceError
from ...services.notifications import DEFAULT_EVENTS, EVENTS
from ..bounds import RowId
from ..declare import uses
from .access import Viewer, check_csrf, signed_in
from .forms import form_page, problem_of, refuse_if_managed, with_owners

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
Field = Annotated[str, Form(max_length=4000)]


def _channels_page(
    request: Request,
    viewer: Viewer,
    problem: dict[str, Any] | None = None,
    tested: str = "",
    **form: str,
) -> HTMLResponse:
    notifications = request.app.state.notifications
    return form_page(
        request,
        "channels.html",
        viewer,
        problem,
        channels=with_owners(request, "channels", notifications.channels()),
        routes=with_owners(request, "channels", notifications.routes(), key="channel"),
        events=EVENTS,
        default_events=DEFAULT_EVENTS,
        deliveries=notifications.deliveries(limit=50),
        tested=tested,
        form=form,
    )


@router.get("/channels", response_class=HTMLResponse)
@uses(Resource.CHANNELS, Action.READ)
def channels_page(
    request: Request, viewer: SignedIn, tested: Annotated[str, Query(max_length=64)] = ""
) -> HTMLResponse:
    """Where notifications go, and whether they get there (admins: see the policy)."""
    return _channels_page(request, viewer, tested=tested)


@router.post("/channels", response_class=HTMLResponse)
@uses(Resource.CHANNELS, Action.MANAGE)
async def create_channel(
    request: Request, viewer: SignedIn, csrf: Field = "", name: Field = "", url: Field = ""
) -> Response:
    check_csrf(request, viewer, csrf)
    try:
        await request.app.state.notifications.create_channel(name.strip(), url.strip())
    except ServiceError as exc:
        return _channels_page(request, viewer, problem_of(exc), name=name, url=url)
    return RedirectResponse("/channels", status_code=303)


@router.post("/channels/{name}/test", response_class=HTMLResponse)
@uses(Resource.CHANNELS, Action.MANAGE)
async def test_channel(request: Request, name: str, viewer: SignedIn, csrf: Field = "") -> Response:
    """Queue a test message; the deliveries below show whether it arrived."""
    check_csrf(request, viewer, csrf)
    await request.app.state.notifications.send_test(name, by=viewer.username or "an admin")
    return RedirectResponse(f"/channels?tested={name}", status_code=303)


@router.post("/channels/{name}/delete", response_class=HTMLResponse)
@uses(Resource.CHANNELS, Action.MANAGE)
async def delete_channel(
    request: Request, name: str, viewer: SignedIn, csrf: Field = ""
) -> Response:
    check_csrf(request, viewer, csrf)
    refuse_if_managed(request, "channels", name)
    await request.app.state.notifications.delete_channel(name)
    return RedirectResponse("/channels", status_code=303)


@router.post("/routes", response_class=HTMLResponse)
@uses(Resource.CHANNELS, Action.MANAGE)
async def add_route(
    request: Request,
    viewer: SignedIn,
    csrf: Field = "",
    channel: Field = "",
    job: Field = "",
    room: Field = "",
    events: Annotated[list[str], Form(max_length=len(EVENTS))] = [],  # noqa: B006 (FastAPI copies it)
) -> Response:
    """Send the chosen events of a job, a room, or (neither) everything to a channel."""
    check_csrf(request, viewer, csrf)
    refuse_if_managed(request, "channels", channel)
    try:
        await request.app.state.notifications.add_route(
            channel, job=job.strip() or None, room=room.strip() or None, events=events
        )
    except ServiceError as exc:
        return _channels_page(request, viewer, problem_of(exc))
    return RedirectResponse("/channels", status_code=303)


@router.post("/routes/{route_id}/delete", response_class=HTMLResponse)
@uses(Resource.CHANNELS, Action.MANAGE)
async def delete_route(
    request: Request, route_id: RowId, viewer: SignedIn, csrf: Field = ""
) -> Response:
    check_csrf(request, viewer, csrf)
    refuse_if_managed(request, "route-id", str(route_id))
    await request.app.state.notifications.delete_route(route_id)
    return RedirectResponse("/channels", status_code=303)
