"""ChatOps built-ins for agents: `!agents`, `!cancel RUN`.

Registered with the command registry on import; they reach the agent service
through `Services.extra["agents"]`. (`!run JOB` starts agent jobs as it starts
callback jobs: through the scheduler's start.)
"""

from __future__ import annotations

from typing import Any

from ..domain.commands import CommandError
from .agents import AgentService
from .command_builtins import Context, builtin
from .errors import ServiceError


def _service(ctx: Context) -> AgentService:
    service = ctx.services.extra.get("agents")
    if not isinstance(service, AgentService):
        raise CommandError("agents are not set up on this hub")
    return service


def _agent_line(agent: dict[str, Any]) -> str:
    tags = ", ".join(agent["tags"]) or "no tags"
    runs = ", ".join(f"{r['job']} `{r['run_id']}`" for r in agent["runs"])
    busy = f"{agent['slots_used']}/{agent['slots']} slots" + (f": {runs}" if runs else "")
    return f"- {agent['name']} on {agent['host']} ({tags}): {agent['state']}, {busy}"


@builtin("agents", "The agents, what each runs, and the queue", examples=("!agents",))
async def agents(ctx: Context) -> str:
    try:
        found = await ctx.read(lambda: _service(ctx).overview(ctx.who))
    except ServiceError as exc:
        raise CommandError(exc.message) from exc
    if not found["agents"]:
        return "no agents have registered (see docs/agents.md)"
    lines = [_agent_line(a) for a in found["agents"]]
    for item in found["queue"]:
        lines.append(
            f"- queued #{item['position']}: {item['job']} `{item['run_id']}` "
            f"({item['waiting_for']})"
        )
    return "\n".join(lines)


@builtin(
    "cancel {run}",
    "Cancel a run; one running on an agent is stopped there",
    roles=("operator", "admin"),
    examples=("!cancel 3f2a9c1d",),
)
async def cancel(ctx: Context) -> str:
    run_id = str(ctx.args["run"])
    try:
        answer = await _service(ctx).cancel(ctx.who, run_id)
    except ServiceError as exc:
        raise CommandError(exc.message, field="run") from exc
    if answer["stopping"]:
        return f"stopping run `{run_id}` on its agent"
    return f"run `{run_id}` is {answer['status']}"
