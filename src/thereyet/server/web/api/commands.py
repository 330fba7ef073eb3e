"""/api/v1/commands: the commands there are, and the record of each execution."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ...domain.policy import Action, Resource
from ...services.command_config import spec_view
from ...services.commands import CommandService
from ..answers import answer
from ..auth import Reader, uses
from ..bounds import RowId
from .oncall_answers import CommandListOut, CommandRunListOut, CommandRunOut

router = APIRouter(prefix="/commands", tags=["commands"])


def _commands(request: Request) -> CommandService:
    service: CommandService = request.app.state.commands
    return service


@router.get(
    "",
    response_model=answer(CommandListOut),
    summary="Commands the caller may run (in a room, if named)",
)
@uses(Resource.COMMANDS, Action.READ)
def list_commands(
    who: Reader,
    request: Request,
    room: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    service = _commands(request)
    return {
        "commands": [
            spec_view(spec) for spec in sorted(service.visible(who, room), key=lambda s: s.name)
        ],
        "config_error": service.config_error(who),
    }


@router.get(
    "/runs", response_model=answer(CommandRunListOut), summary="Command executions, newest first"
)
@uses(Resource.COMMANDS, Action.READ)
def list_runs(
    who: Reader,
    request: Request,
    room: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    return {"runs": _commands(request).records(who, room, limit)}


@router.get(
    "/runs/{run_id}",
    response_model=answer(CommandRunOut),
    summary="One command execution: who, where, arguments, output",
)
@uses(Resource.COMMANDS, Action.READ)
def get_run(run_id: RowId, who: Reader, request: Request) -> dict[str, Any]:
    return _commands(request).record(who, run_id)
