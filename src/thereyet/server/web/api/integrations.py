"""/api/v1/integrations and /api/v1/bridges: what posts into rooms and opens incidents,
and where rooms go.

One collection for every kind of inbound integration. The former field name
`format` (this collection) and the former collection `/api/v1/oncall/integrations`
(its `endpoint` answer) are kept for one release, answered with a `Deprecation`
header; see docs/api.md.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import Field

from ...domain.policy import Action, Resource
from ...services.bridges import BridgeService
from ...services.errors import Invalid
from ...services.integrations import IntegrationService
from ..answers import answer
from ..auth import Admin, uses
from ..bounds import RowId
from .oncall_answers import (
    AlertSourceListOut,
    BridgeListOut,
    BridgeOut,
    HookListOut,
    HookOut,
    NewAlertSourceOut,
    NewHookOut,
)
from .schemas import Body, Name

router = APIRouter(tags=["integrations"])
former = APIRouter(prefix="/oncall", tags=["integrations"])  # deprecated, for one release
Kind = Annotated[str, Field(min_length=1, max_length=16)]
DEPRECATED = {"Deprecation": "true", "Link": '</api/v1/integrations>; rel="successor-version"'}


class IntegrationIn(Body):
    name: Name
    kind: Kind | None = None
    format: Kind | None = Field(default=None, description="deprecated: the former name of kind")
    room: Name | None = None
    service: Name | None = None
    secret: Annotated[str | None, Field(min_length=16, max_length=200)] = None


class FormerIntegrationIn(Body):
    name: Name
    service: Name
    kind: Literal["pagerduty", "alertmanager", "generic"]


class BridgeIn(Body):
    room: Name
    channel: Name


def _service(request: Request) -> IntegrationService:
    service: IntegrationService = request.app.state.integrations
    return service


def _bridges(request: Request) -> BridgeService:
    service: BridgeService = request.app.state.bridges
    return service


@router.post(
    "/integrations",
    response_model=answer(NewHookOut),
    status_code=201,
    summary="Create an integration (its token, URL and sender configuration are shown once)",
)
@uses(Resource.INTEGRATIONS, Action.MANAGE)
async def create_integration(
    body: IntegrationIn, who: Admin, request: Request, response: Response
) -> dict[str, Any]:
    if (body.kind is None) == (body.format is None):
        raise Invalid("give kind (or the deprecated format), not both", field="kind")
    try:
        made = await _service(request).create(
            who,
            name=body.name,
            kind=body.kind or body.format or "",
            room=body.room,
            service=body.service,
            secret=body.secret,
        )
    except Invalid as exc:
        if body.format is not None and exc.field == "kind":
            exc.field = "format"  # named as the request named it
        raise
    if body.format is not None:  # the former shape is answered as before: a relative url
        response.headers.update(DEPRECATED)
        made["url"] = made["path"]
    return made


@router.get(
    "/integrations",
    response_model=answer(HookListOut),
    summary="Integrations with their last deliveries (never secrets)",
)
@uses(Resource.INTEGRATIONS, Action.READ)
def list_integrations(who: Admin, request: Request) -> dict[str, Any]:
    return {"integrations": _service(request).all()}


@router.get(
    "/integrations/{name}",
    response_model=answer(HookOut),
    summary="One integration with its last deliveries",
)
@uses(Resource.INTEGRATIONS, Action.READ)
def get_integration(name: str, who: Admin, request: Request) -> dict[str, Any]:
    return _service(request).one(name)


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
    return await _bridges(request).bridge(body.room, body.channel)


@router.get("/bridges", response_model=answer(BridgeListOut), summary="Rooms mirrored to channels")
@uses(Resource.INTEGRATIONS, Action.READ)
def list_bridges(who: Admin, request: Request) -> dict[str, Any]:
    return {"bridges": _bridges(request).bridges()}


@router.delete("/bridges/{bridge_id}", status_code=204, summary="Stop mirroring a room")
@uses(Resource.INTEGRATIONS, Action.MANAGE)
async def delete_bridge(bridge_id: RowId, who: Admin, request: Request) -> Response:
    await _bridges(request).unbridge(bridge_id)
    return Response(status_code=204)


# -- the former /api/v1/oncall/integrations (deprecated, kept for one release) --------

_OLD_ENDPOINTS = {
    "pagerduty": "/v2/enqueue (routing_key: the token)",
    "alertmanager": "/api/v1/alerts/{token}/alertmanager",
    "generic": "/api/v1/alerts/{token}",
}


@former.post(
    "/integrations",
    response_model=answer(NewAlertSourceOut),
    status_code=201,
    summary="Deprecated: POST /api/v1/integrations (kept for one release)",
    deprecated=True,
)
@uses(Resource.INTEGRATIONS, Action.MANAGE)
async def create_alert_source_former(
    body: FormerIntegrationIn, who: Admin, request: Request, response: Response
) -> dict[str, Any]:
    integrations: IntegrationService = request.app.state.integrations
    made = await integrations.create(who, name=body.name, kind=body.kind, service=body.service)
    response.headers.update(DEPRECATED)
    return {**made, "endpoint": _OLD_ENDPOINTS[body.kind].format(token=made["token"])}


@former.get(
    "/integrations",
    response_model=answer(AlertSourceListOut),
    summary="Deprecated: GET /api/v1/integrations (kept for one release)",
    deprecated=True,
)
@uses(Resource.INTEGRATIONS, Action.READ)
def list_alert_sources_former(who: Admin, request: Request, response: Response) -> dict[str, Any]:
    integrations: IntegrationService = request.app.state.integrations
    response.headers.update(DEPRECATED)
    return {"integrations": [i for i in integrations.all() if i["service"] is not None]}
