"""/api/v1/agents: the agent protocol (register, poll, start), the agents' overview and
removing one;
/api/v1/runs/{id}/cancel, which reaches a run's process on its agent."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ...domain.policy import Action, Resource
from ...services.agents import AgentService, Hello
from ..answers import answer
from ..auth import Admin, Reader, Writer, uses
from .agent_answers import AgentsOut, CancelledOut, PollOut, RegisteredOut, StartOut
from .schemas import RUN_ID_PATTERN

router = APIRouter(tags=["agents"])

AGENT_NAME = r"^[a-z0-9][a-z0-9._-]{0,63}$"
AgentName = Annotated[str, Path(pattern=AGENT_NAME)]
RunId = Annotated[str, Field(pattern=RUN_ID_PATTERN)]
Running = Annotated[list[RunId], Field(max_length=1000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(_Body):
    name: Annotated[str, Field(pattern=AGENT_NAME)]
    host: Annotated[str, Field(min_length=1, max_length=255)]
    tags: Annotated[list[Annotated[str, Field(pattern=AGENT_NAME)]], Field(max_length=20)] = []
    version: Annotated[str, Field(max_length=64)] = ""
    slots: Annotated[int, Field(ge=1, le=1000)] = 1
    running: Running = []


class PollIn(_Body):
    running: Running = []
    wait: Annotated[float, Field(ge=0, le=60)] = 8.0


def _agents(request: Request) -> AgentService:
    service: AgentService = request.app.state.agents
    return service


@router.post(
    "/agents/register",
    response_model=answer(RegisteredOut),
    summary="An agent says who it is and what it still runs",
)
@uses(Resource.AGENTS, Action.WRITE)
async def register(body: RegisterIn, who: Writer, request: Request) -> dict[str, Any]:
    hello = Hello(body.name, body.host, frozenset(body.tags), body.version, body.slots)
    return await _agents(request).register(who, hello, body.running)


@router.post(
    "/agents/{name}/poll",
    response_model=answer(PollOut),
    summary="Wait for runs to start and runs to stop",
)
@uses(Resource.AGENTS, Action.WRITE)
async def poll(name: AgentName, body: PollIn, who: Writer, request: Request) -> dict[str, Any]:
    """Answers at once when there is something to do, else after up to `wait` seconds
    (at most 8 s, and a third of the time after which a silent agent is lost)."""
    return await _agents(request).poll(who, name, body.running, body.wait)


@router.post(
    "/agents/{name}/runs/{run_id}/start",
    response_model=answer(StartOut),
    summary="Start a run handed to this agent: its command, and a token for that run only",
)
@uses(Resource.AGENTS, Action.WRITE)
async def start(
    name: AgentName,
    run_id: Annotated[str, Path(pattern=RUN_ID_PATTERN)],
    who: Writer,
    request: Request,
) -> dict[str, Any]:
    """409 if the run is not (or no longer) this agent's to start: it must not run it."""
    return await _agents(request).start(who, name, run_id)


@router.get(
    "/agents",
    response_model=answer(AgentsOut),
    summary="Agents, the runs on each, and the queue with positions",
)
@uses(Resource.AGENTS, Action.READ)
def overview(who: Reader, request: Request) -> dict[str, Any]:
    return _agents(request).overview(who)


@router.delete(
    "/agents/{name}",
    status_code=204,
    summary="Remove an agent: it is lost, and its name is free for another token",
)
@uses(Resource.AGENTS, Action.MANAGE)
async def remove(name: AgentName, who: Admin, request: Request) -> Response:
    """Its running runs are lost (and retried as their jobs say); its name may then be
    registered by any agent token (a fleet token holds each name it registered until
    then). To keep a host's agent away for good, revoke its token."""
    await _agents(request).remove(who, name)
    return Response(status_code=204)


@router.post(
    "/runs/{run_id}/cancel",
    response_model=answer(CancelledOut),
    summary="Cancel a run; one on an agent is stopped there",
)
@uses(Resource.RUNS, Action.WRITE)
async def cancel(
    run_id: Annotated[str, Path(pattern=RUN_ID_PATTERN)], who: Writer, request: Request
) -> dict[str, Any]:
    """A queued run ends at once; a running one gets SIGTERM on its agent (SIGKILL after a
    grace) and ends as `cancelled` with its exit code and output tail once it stopped."""
    return await _agents(request).cancel(who, run_id)
