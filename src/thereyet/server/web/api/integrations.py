"""/api/v1/integrations and /api/v1/bridges: what posts into rooms, and where rooms go."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from ...domain.policy import Action, Resource
from ...services.integrations import IntegrationService
from ..answers import answer
from ..auth import Admin, uses
from ..bounds import RowId
from .oncall_answers import BridgeListOut, BridgeOut, HookListOut, NewHookOut
from .schemas import Body, Name

router = APIRouter(tags=["integrations"])


class IntegrationIn(Body):
    name: Name
    format: Annotated[str, Field(min_length=1, max_length=16)]
    room: Name
    secret: Annotated[str | None, Field(min_length=16, max_length=200)] = None


class BridgeIn(Body):
    room: Name
    channel: Name


def _service(request: Request) -> IntegrationService:
    service: IntegrationService = request.app.state.integrations
    return service


@router.post(
    "/integrations",
    response_model=answer(NewHookOut),
    status_code=201,
    summary="Create an integration (its URL is shown once)",
)
@uses(Resource.INTEGRATIONS, Action.MANAGE)
async def create_integration(body: IntegrationIn, who: Admin, request: Request) -> dict[str, Any]:
    return await _service(request).create(
        who, name=body.name, format=body.format, room=body.room, secret=body.secret
    )


@router.get(
    "/integrations",
    response_model=answer(HookListOut),
    summary="Integrations, with refused deliveries (never secrets)",
)
@uses(Resource.INTEGRATIONS, Action.READ)
def list_integrations(who: Admin, request: Request) -> dict[str, Any]:
    return {"integrations": _service(request).all()}


@router.delete("/integrations/{name}", status_code=204, summary="Delete an integration")
@uses(Resource.INTEGRATIONS, Action.MANAGE)
async def delete_integration(name: str, who: Admin, request: Request) -> Response:
    await _service(request).delete(name)
    return Response(status_code=204)


@router.post(
    "/bridges",
    response_model=answer(BridgeOut),
    status_code=201,
    summary="Mirror a room's new messages to a channel",
)
@uses(Resource.INTEGRATIONS, Action.MANAGE)
async def create_bridge(body: BridgeIn, who: Admin, request: Request) -> dict[str, Any]:
    return await _service(request).bridge(body.room, body.channel)


@router.get("/bridges", response_model=answer(BridgeListOut), summary="Rooms mirrored to channels")
@uses(Resource.INTEGRATIONS, Action.READ)
def list_bridges(who: Admin, request: Request) -> dict[str, Any]:
    return {"bridges": _service(request).bridges()}


@router.delete("/bridges/{bridge_id}", status_code=204, summary="Stop mirroring a room")
@uses(Resource.INTEGRATIONS, Action.MANAGE)
async def delete_bridge(bridge_id: RowId, who: Admin, request: Request) -> Response:
    await _service(request).unbridge(bridge_id)
    return Response(status_code=204)
