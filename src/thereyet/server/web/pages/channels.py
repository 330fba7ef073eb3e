"""The channels page (admins): where notifications go, whether they got there, a test.

Channels the configuration files manage, and people's contact methods, are shown
read-only; the others can be added, tested and removed here as through the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.policy import Action, Resource
from ...services.errors import ServiceError
from ...services.notifications import DEFAULT_EVENTS, EVENTS
from ..bounds import RowId
from ..declare import uses
from .access import Viewer, signed_in
from .forms import answer, form_page, read_form, refuse_if_managed, with_owners

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
LIMIT = 4000  # characters in any field of these forms


def _channels_page(
    request: Request,
    viewer: Viewer,
    exc: ServiceError | None = None,
    tested: str = "",
    **form: str,
) -> HTMLResponse:
    notifications = request.app.state.notifications
    return form_page(
        request,
        "channels.html",
        viewer,
        exc,
        channels=with_owners(request, "channels", notifications.channels()),
        routes=with_owners(request, "channels", notifications.routes(), key="channel"),
        events=EVENTS,
        default_events=DEFAULT_EVENTS,
        deliveries=notifications.deliveries(limit=50),
        tested=tested,
        form=form,
    )


def _again(request: Request, viewer: Viewer) -> Callable[[ServiceError], HTMLResponse]:
    return lambda exc: _channels_page(request, viewer, exc)


@router.get("/channels", response_class=HTMLResponse)
@uses(Resource.CHANNELS, Action.READ)
def channels_page(
    request: Request, viewer: SignedIn, tested: Annotated[str, Query(max_length=64)] = ""
) -> HTMLResponse:
    """Where notifications go, and whether they get there (admins: see the policy)."""
    return _channels_page(request, viewer, tested=tested)


@router.post("/channels", response_class=HTMLResponse)
@uses(Resource.CHANNELS, Action.MANAGE)
async def create_channel(request: Request, viewer: SignedIn) -> Response:
    form = await read_form(request, viewer)

    async def create() -> None:
        await request.app.state.notifications.create_channel(
            form.text("name", required=False, limit=LIMIT),
            form.text("url", required=False, limit=LIMIT),
        )

    return await answer(
        create,
        "/channels",
        lambda exc: _channels_page(request, viewer, exc, **form.typed("name", "url")),
    )


@router.post("/channels/{name}/test", response_class=HTMLResponse)
@uses(Resource.CHANNELS, Action.MANAGE)
async def test_channel(request: Request, name: str, viewer: SignedIn) -> Response:
    """Queue a test message; the deliveries below show whether it arrived."""
    await read_form(request, viewer)

    async def send() -> None:
        await request.app.state.notifications.send_test(name, by=viewer.username or "an admin")

    return await answer(send, f"/channels?tested={name}", _again(request, viewer))


@router.post("/channels/{name}/delete", response_class=HTMLResponse)
@uses(Resource.CHANNELS, Action.MANAGE)
async def delete_channel(request: Request, name: str, viewer: SignedIn) -> Response:
    await read_form(request, viewer)

    async def delete() -> None:
        await refuse_if_managed(request, "channels", name)
        await request.app.state.notifications.delete_channel(name)

    return await answer(delete, "/channels", _again(request, viewer))


@router.post("/routes", response_class=HTMLResponse)
@uses(Resource.CHANNELS, Action.MANAGE)
async def add_route(request: Request, viewer: SignedIn) -> Response:
    """Send the chosen events of a job, a room, or (neither) everything to a channel."""
    form = await read_form(request, viewer)

    async def add() -> None:
        channel = form.text("channel", required=False, limit=LIMIT)
        await refuse_if_managed(request, "channels", channel)
        await request.app.state.notifications.add_route(
            channel,
            job=form.text("job", required=False, limit=LIMIT) or None,
            room=form.text("room", required=False, limit=LIMIT) or None,
            events=form.choices("events", most=len(EVENTS)),
        )

    return await answer(add, "/channels", _again(request, viewer))


@router.post("/routes/{route_id}/delete", response_class=HTMLResponse)
@uses(Resource.CHANNELS, Action.MANAGE)
async def delete_route(request: Request, route_id: RowId, viewer: SignedIn) -> Response:
    await read_form(request, viewer)

    async def delete() -> None:
        await refuse_if_managed(request, "route-id", str(route_id))
        await request.app.state.notifications.delete_route(route_id)

    return await answer(delete, "/channels", _again(request, viewer))
