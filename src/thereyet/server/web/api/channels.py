"""/api/v1: notification channels, routing rules and delivery status."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ...domain.names import NAME_PATTERN
from ...domain.policy import Action, Resource
from ...services.notifications import NotificationService
from ..answers import answer
from ..auth import Admin, uses
from ..bounds import RowId
from .oncall_answers import (
    ChannelListOut,
    ChannelOut,
    ChannelTestOut,
    DeliveryListOut,
    RouteListOut,
    RouteOut,
)

router = APIRouter(tags=["notifications"])
Name = Annotated[str, Field(pattern=NAME_PATTERN)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelIn(_Body):
    name: Name
    url: Annotated[str, Field(min_length=4, max_length=4000)]


class RouteIn(_Body):
    channel: Name
    job: Name | None = None
    room: Name | None = None
    events: Annotated[list[str], Field(max_length=20)] = []


def _service(request: Request) -> NotificationService:
    service: NotificationService = request.app.state.notifications
    return service


@router.post(
    "/channels",
    response_model=answer(ChannelOut),
    status_code=201,
    summary="Add a channel (an Apprise URL)",
)
@uses(Resource.CHANNELS, Action.MANAGE)
async def create_channel(body: ChannelIn, who: Admin, request: Request) -> dict[str, Any]:
    return await _service(request).create_channel(body.name, body.url)


@router.get(
    "/channels",
    response_model=answer(ChannelListOut),
    summary="Channels with their delivery status",
)
@uses(Resource.CHANNELS, Action.READ)
def list_channels(who: Admin, request: Request) -> dict[str, Any]:
    return {"channels": _service(request).channels()}


@router.delete("/channels/{name}", status_code=204, summary="Remove a channel and its routes")
@uses(Resource.CHANNELS, Action.MANAGE)
async def delete_channel(name: str, who: Admin, request: Request) -> Response:
    await _service(request).delete_channel(name)
    return Response(status_code=204)


@router.post(
    "/channels/{name}/test",
    response_model=answer(ChannelTestOut),
    status_code=202,
    summary="Send a test message to a channel",
)
@uses(Resource.CHANNELS, Action.MANAGE)
async def test_channel(name: str, who: Admin, request: Request) -> dict[str, Any]:
    """Queued like any notification; GET /deliveries?channel=NAME shows how it went."""
    return await _service(request).send_test(name, by=who.name)


@router.post(
    "/routes",
    response_model=answer(RouteOut),
    status_code=201,
    summary="Route events of a job or room to a channel",
)
@uses(Resource.CHANNELS, Action.MANAGE)
async def create_route(body: RouteIn, who: Admin, request: Request) -> dict[str, Any]:
    return await _service(request).add_route(
        body.channel, job=body.job, room=body.room, events=body.events
    )


@router.get("/routes", response_model=answer(RouteListOut), summary="Routing rules")
@uses(Resource.CHANNELS, Action.READ)
def list_routes(who: Admin, request: Request) -> dict[str, Any]:
    return {"routes": _service(request).routes()}


@router.delete("/routes/{route_id}", status_code=204, summary="Remove a routing rule")
@uses(Resource.CHANNELS, Action.MANAGE)
async def delete_route(route_id: RowId, who: Admin, request: Request) -> Response:
    await _service(request).delete_route(route_id)
    return Response(status_code=204)


@router.get(
    "/deliveries",
    response_model=answer(DeliveryListOut),
    summary="Notifications and callbacks, newest first, with their status",
)
@uses(Resource.CHANNELS, Action.READ)
def list_deliveries(
    who: Admin,
    request: Request,
    channel: str | None = None,
    status: Literal["pending", "sent", "failed"] | None = None,
    kind: Literal["notify", "callback"] | None = None,
    run_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    found = _service(request).deliveries(
        channel=channel, status=status, kind=kind, run_id=run_id, limit=limit
    )
    return {"deliveries": found}
