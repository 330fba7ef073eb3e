"""ChatOps built-ins for incidents and on-call: `!ack 17`, `!resolve 17`, `!oncall`.

Registered with the command registry on import; they reach the incident and
on-call services through `Services.extra` ("incidents", "oncall").
"""

from __future__ import annotations

from typing import Any

from ..domain.commands import CommandError
from .command_builtins import Context, builtin
from .errors import ServiceError


async def _act(ctx: Context, action: str) -> str:
    incidents = ctx.services.extra.get("incidents")
    if incidents is None:
        raise CommandError("incidents are not set up on this hub")
    number = int(ctx.args["incident"])
    try:
        view: dict[str, Any] = await incidents.act(ctx.who, number, action)
    except ServiceError as exc:
        raise CommandError(exc.message, field="incident") from exc
    return f"incident {number} is {view.get('status', action + 'd')}: {view.get('summary', '')}"


@builtin(
    "ack {incident:int}",
    "Acknowledge an incident: stops its escalation",
    roles=("operator", "admin"),
    examples=("!ack 17",),
)
async def ack(ctx: Context) -> str:
    return await _act(ctx, "acknowledge")


@builtin(
    "resolve {incident:int}",
    "Resolve an incident",
    roles=("operator", "admin"),
    examples=("!resolve 17",),
)
async def resolve(ctx: Context) -> str:
    return await _act(ctx, "resolve")


@builtin("oncall", "Who is on call now, per rotation", examples=("!oncall",))
async def oncall(ctx: Context) -> str:
    service = ctx.services.extra.get("oncall")
    if service is None:
        raise CommandError("on-call is not set up on this hub")
    rotations = await ctx.read(lambda: service.rotations(ctx.services.hub.clock.now()))
    if not rotations:
        return "no rotations yet"
    return "\n".join(f"- {r['name']}: {r['on_call'] or 'nobody'}" for r in rotations)
