"""/api/v1: jobs, tokens, attachments and who-am-I (health: web/metrics.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from ...domain.access import Scope
from ...domain.media import INLINE_IMAGES
from ...domain.policy import Action, Resource
from ...services.jobs import JobChanges, JobService
from ...services.runs import RunService
from ...services.tokens import TokenService
from ..answers import answer
from ..auth import Admin, Reader, uses
from ..responses import text_answers
from .answers import JobDetailOut, JobListOut, JobOut, MeOut, NewTokenOut, NodeListOut, TokenListOut
from .runs import attachment_response
from .schemas import JobIn, JobPatch, TokenIn

router = APIRouter()


@router.get(
    "/nodes",
    response_model=answer(NodeListOut),
    tags=["hub"],
    summary="The hub's nodes and their heartbeats",
)
@uses(Resource.HUB, Action.MANAGE)
def list_nodes(who: Admin, request: Request) -> dict[str, Any]:
    """Every node heartbeating on this database; `alive` is false once its heartbeat
    lapsed (its claims are then released by the next heartbeat of another node)."""
    return {"nodes": request.app.state.nodes.nodes()}


@router.get(
    "/me", response_model=answer(MeOut), tags=["hub"], summary="What the calling token may do"
)
@uses(Resource.HUB, Action.READ)
def me(who: Reader) -> dict[str, Any]:
    return {
        "name": who.name,
        "scope": who.scope.value,
        "jobs": sorted(who.jobs),
        "rooms": sorted(who.rooms),
    }


@router.get("/jobs", response_model=answer(JobListOut), tags=["jobs"], summary="List jobs")
@uses(Resource.JOBS, Action.READ)
def list_jobs(who: Reader, request: Request) -> dict[str, Any]:
    jobs: JobService = request.app.state.jobs
    return {"jobs": jobs.all(who)}


@router.get(
    "/jobs/{name}",
    response_model=answer(JobDetailOut),
    tags=["jobs"],
    summary="One job, with its typical duration",
)
@uses(Resource.JOBS, Action.READ)
def get_job(name: str, who: Reader, request: Request) -> dict[str, Any]:
    jobs: JobService = request.app.state.jobs
    return jobs.get(who, name)


def _changes(body: JobPatch) -> JobChanges:
    given = frozenset(body.model_fields_set - {"name"})
    return JobChanges(
        given=given,
        title=body.title,
        description=body.description,
        runbook_url=body.runbook_url,
        room_cards=body.room_cards,
    )


@router.post(
    "/jobs",
    response_model=answer(JobOut),
    tags=["jobs"],
    status_code=201,
    summary="Make a job before its first run",
)
@uses(Resource.JOB_SETTINGS, Action.MANAGE)
async def create_job(body: JobIn, who: Admin, request: Request) -> dict[str, Any]:
    jobs: JobService = request.app.state.jobs
    return await jobs.create(body.name, _changes(body))


@router.patch(
    "/jobs/{name}",
    response_model=answer(JobOut),
    tags=["jobs"],
    summary="Set a job's title, description, runbook, room cards",
)
@uses(Resource.JOB_SETTINGS, Action.MANAGE)
async def update_job(name: str, body: JobPatch, who: Admin, request: Request) -> dict[str, Any]:
    """Fields left out stay as they are; "runbook_url": null removes the runbook link;
    "room_cards": null goes back to the default."""
    jobs: JobService = request.app.state.jobs
    return await jobs.update(name, _changes(body))


@router.get(
    "/attachments/{attachment_id}",
    tags=["runs"],
    summary="An attachment's content",
    response_class=Response,
    responses=text_answers(*sorted(INLINE_IMAGES), "application/octet-stream"),
)
@uses(Resource.ATTACHMENTS, Action.READ)
def get_attachment(attachment_id: str, who: Reader, request: Request) -> Response:
    runs: RunService = request.app.state.runs
    return attachment_response(runs.attachment(who, attachment_id))


@router.post(
    "/tokens",
    response_model=answer(NewTokenOut),
    tags=["tokens"],
    status_code=201,
    summary="Create a token (shown once)",
)
@uses(Resource.TOKENS, Action.MANAGE)
async def create_token(body: TokenIn, who: Admin, request: Request) -> dict[str, Any]:
    tokens: TokenService = request.app.state.tokens
    token, view = await tokens.create(
        name=body.name,
        scope=Scope(body.scope),
        jobs=body.jobs,
        rooms=body.rooms,
        agent=body.agent,
    )
    return {**view, "token": token}


@router.get(
    "/tokens",
    response_model=answer(TokenListOut),
    tags=["tokens"],
    summary="List tokens (never their secrets)",
)
@uses(Resource.TOKENS, Action.MANAGE)
def list_tokens(who: Admin, request: Request) -> dict[str, Any]:
    tokens: TokenService = request.app.state.tokens
    return {"tokens": tokens.all()}


@router.delete("/tokens/{token_id}", tags=["tokens"], status_code=204, summary="Revoke a token")
@uses(Resource.TOKENS, Action.MANAGE)
async def revoke_token(token_id: str, who: Admin, request: Request) -> Response:
    tokens: TokenService = request.app.state.tokens
    await tokens.revoke(token_id)
    return Response(status_code=204)
