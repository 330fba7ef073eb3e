"""/api/v1: job schedules, limits and targets; ping keys."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ...configfile.model import AgentTarget
from ...domain.names import NAME_PATTERN
from ...domain.policy import Action, Resource
from ...services.pings import PingService
from ...services.schedules import JobConfig, ScheduleService
from ..answers import answer
from ..auth import Admin, Reader, uses
from .answers import NewPingKeyOut, PingKeyListOut, ScheduleOut
from .schemas import WebUrl

router = APIRouter(tags=["schedules"])

# Seconds or "10m"; checked (range, syntax) by the service, which names the field.
# Strict: `false` is not 0 seconds (the schema says a number or a string).
Duration = Annotated[float, Field(strict=True)] | str


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LimitsIn(_Body):
    grace: Duration | None = None
    start_deadline: Duration | None = None
    max_duration: Duration | None = None
    stall_after: Duration | None = None
    lost_after: Duration | None = None


class TargetIn(_Body):
    kind: Literal["http"]
    url: WebUrl
    headers: Annotated[dict[str, Annotated[str, Field(max_length=2000)]], Field(max_length=20)] = {}


class ScheduleIn(_Body):
    schedule: Annotated[str, Field(max_length=200)] | None = None
    timezone: Annotated[str, Field(max_length=64)] | None = None
    limits: LimitsIn | None = None
    # An agent target is written as in the configuration files (docs/agents.md).
    target: Annotated[TargetIn | AgentTarget, Field(discriminator="kind")] | None = None
    room: Annotated[str, Field(pattern=NAME_PATTERN)] | None = None
    # What a hub that was down does with the occurrences it missed (docs/monitoring.md).
    catch_up: Literal["none", "latest", "all"] | None = None
    catch_up_limit: Annotated[int, Field(ge=1, le=1000)] | None = None


class PingKeyIn(_Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]


def _schedules(request: Request) -> ScheduleService:
    service: ScheduleService = request.app.state.schedules
    return service


@router.put(
    "/jobs/{name}/schedule",
    response_model=answer(ScheduleOut),
    summary="Set a job's schedule, limits and target",
)
@uses(Resource.JOB_SETTINGS, Action.MANAGE)
async def put_schedule(name: str, body: ScheduleIn, who: Admin, request: Request) -> dict[str, Any]:
    """Fields left out stay as they are; "schedule": "" removes the schedule, and a
    target is removed with "target": null given explicitly."""
    given = body.model_fields_set
    target: dict[str, Any] | None = None
    if "target" in given:
        target = body.target.model_dump() if body.target else {}
    limits = body.limits.model_dump(exclude_unset=True) if body.limits else None
    config = JobConfig(
        schedule=body.schedule,
        timezone=body.timezone,
        limits=limits,
        target=target,
        room=body.room,
        catch_up=body.catch_up,
        catch_up_limit=body.catch_up_limit,
    )
    return await _schedules(request).configure(name, config)


@router.get(
    "/jobs/{name}/schedule",
    response_model=answer(ScheduleOut),
    summary="A job's schedule, limits, state and recent events",
)
@uses(Resource.JOB_SETTINGS, Action.READ)
def get_schedule(name: str, who: Reader, request: Request) -> dict[str, Any]:
    """Its target and ping URL only to those the policy lets see them."""
    return _schedules(request).get(who, name)


@router.post(
    "/ping-keys",
    response_model=answer(NewPingKeyOut),
    status_code=201,
    summary="Create a ping key (shown once)",
)
@uses(Resource.PING_URLS, Action.MANAGE)
async def create_ping_key(body: PingKeyIn, who: Admin, request: Request) -> dict[str, Any]:
    pings: PingService = request.app.state.pings
    return await pings.create_key(body.name)


@router.get(
    "/ping-keys",
    response_model=answer(PingKeyListOut),
    summary="List ping keys (never the keys themselves)",
)
@uses(Resource.PING_URLS, Action.MANAGE)
def list_ping_keys(who: Admin, request: Request) -> dict[str, Any]:
    pings: PingService = request.app.state.pings
    return {"ping_keys": pings.keys()}


@router.delete("/ping-keys/{key_id}", status_code=204, summary="Revoke a ping key")
@uses(Resource.PING_URLS, Action.MANAGE)
async def revoke_ping_key(key_id: str, who: Admin, request: Request) -> Response:
    pings: PingService = request.app.state.pings
    await pings.revoke_key(key_id)
    return Response(status_code=204)
