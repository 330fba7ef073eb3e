"""/api/v1/config: plan, apply and export the configuration over the API (admin only).

The client sends the files' text and the values of the secret references it
resolved itself: the hub never reads its own environment or files for a request.
Errors answer 422 with every problem, each with its file, line and field.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ...configfile.model import json_schema
from ...configfile.problems import ConfigInvalid
from ...configfile.secrets import Resolver
from ...configfile.service import ConfigService
from ...domain.policy import Action, Resource
from ..answers import answer
from ..auth import Admin
from ..declare import uses
from .oncall_answers import AppliedOut, ConfigSchemaOut, ExportOut, PlanOut

router = APIRouter(prefix="/config", tags=["configuration"])


class FilesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    files: Annotated[
        dict[Annotated[str, Field(max_length=500)], Annotated[str, Field(max_length=2_000_000)]],
        Field(max_length=500),
    ]
    secrets: Annotated[
        dict[str, Annotated[str, Field(max_length=100_000)]], Field(max_length=1000)
    ] = {}
    prune: bool = False


def _service(request: Request) -> ConfigService:
    service: ConfigService = request.app.state.config
    return service


def _invalid(exc: ConfigInvalid) -> JSONResponse:
    problems = [p.as_dict() for p in exc.problems]
    first = exc.problems[0]
    return JSONResponse(
        {"error": str(first), "field": first.field, "problems": problems}, status_code=422
    )


@router.post(
    "/plan", response_model=answer(PlanOut), summary="What applying these files would change"
)
@uses(Resource.CONFIG, Action.MANAGE)
def plan(body: FilesIn, who: Admin, request: Request) -> Any:
    try:
        result = _service(request).plan(body.files, Resolver(body.secrets), prune=body.prune)
    except ConfigInvalid as exc:
        return _invalid(exc)
    return result.as_dict()


@router.post(
    "/apply",
    response_model=answer(AppliedOut),
    summary="Apply these files in one transaction (all or nothing)",
)
@uses(Resource.CONFIG, Action.MANAGE)
async def apply(body: FilesIn, who: Admin, request: Request) -> Any:
    try:
        done = await _service(request).apply(body.files, Resolver(body.secrets), prune=body.prune)
    except ConfigInvalid as exc:
        return _invalid(exc)
    return {**done.plan.as_dict(), "secrets": done.written.secrets}


@router.get(
    "/export",
    response_model=answer(ExportOut),
    summary="The configuration as files (secrets as references)",
)
@uses(Resource.CONFIG, Action.MANAGE)
def export(who: Admin, request: Request) -> dict[str, Any]:
    files, _secrets = _service(request).export()
    return {"files": files, "secret_refs": sorted(f"env:{name}" for name in _secrets)}


@router.get(
    "/schema",
    response_model=answer(ConfigSchemaOut),
    summary="The JSON Schema of a configuration file",
)
@uses(Resource.CONFIG, Action.MANAGE)
def schema(who: Admin) -> dict[str, Any]:
    return json_schema()
