"""/api/v1/runs: create, list, read, report events, finish, attach files."""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from ...domain.media import media_type, shown_inline
from ...domain.policy import Action, Resource
from ...domain.runs import RunFilter, RunStatus
from ...services.errors import Invalid
from ...services.runs import NewRun, RunService
from ..answers import also, answer
from ..auth import Reader, Writer, uses
from ..bounds import INT64_MAX
from .answers import AttachmentOut, EventListOut, ReportOut, RunListOut, RunOut
from .schemas import (
    EVENT_BATCH_OPENAPI,
    ID_PATTERN,
    FinishIn,
    RunIn,
    When,
    parse_event_batch,
    to_event,
)

router = APIRouter(prefix="/runs", tags=["runs"])
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def _runs(request: Request) -> RunService:
    service: RunService = request.app.state.runs
    return service


@router.post(
    "",
    response_model=answer(RunOut),
    responses=also(200, RunOut, "The run with this id already existed"),
    status_code=201,
    summary="Create a run (repeat-safe with a client id)",
)
@uses(Resource.JOBS, Action.WRITE)
async def create_run(body: RunIn, who: Writer, request: Request) -> JSONResponse:
    spec = NewRun(**{**body.model_dump(exclude={"status"}), "status": RunStatus(body.status)})
    view, created = await _runs(request).create(who, spec)
    return JSONResponse(view, status_code=201 if created else 200)


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, _, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), run_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid("cursor is not one this API gave out", field="cursor") from exc


def _encode_cursor(view: dict[str, Any]) -> str:
    at = datetime.fromisoformat(view["created_at"].replace("Z", "+00:00"))
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{view['id']}".encode()).decode()


@router.get("", response_model=answer(RunListOut), summary="List runs, newest first")
@uses(Resource.RUNS, Action.READ)
def list_runs(
    who: Reader,
    request: Request,
    job: str | None = None,
    room: str | None = None,
    status: Annotated[list[RunStatus] | None, Query()] = None,
    host: str | None = None,
    since: When | None = None,
    until: When | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    flt = RunFilter(
        job=job, room=room, statuses=tuple(status or ()), host=host, since=since, until=until
    )
    before = _decode_cursor(cursor) if cursor else None
    found = _runs(request).search(who, flt, before=before, limit=limit)
    next_cursor = _encode_cursor(found[-1]) if len(found) == limit else None
    return {"runs": found, "next_cursor": next_cursor}


@router.get(
    "/{run_id}",
    response_model=answer(RunOut),
    summary="One run, with progress, ETA, stats, log tail and attachments",
)
@uses(Resource.RUNS, Action.READ)
def get_run(run_id: str, who: Reader, request: Request) -> dict[str, Any]:
    return _runs(request).get(who, run_id)


@router.post(
    "/{run_id}/events",
    response_model=answer(ReportOut),
    summary="Report a batch of events (ids make retries safe)",
    openapi_extra=EVENT_BATCH_OPENAPI,
)
@uses(Resource.RUNS, Action.WRITE)
async def post_events(run_id: str, who: Writer, request: Request) -> dict[str, Any]:
    # The busiest endpoint validates its body itself, straight from the bytes:
    # see parse_event_batch.
    body = parse_event_batch(await request.body(), request.headers.get("content-type"))
    now = request.app.state.hub.clock.now()
    events = [to_event(e, now) for e in body.events]
    result = await _runs(request).report(who, run_id, events)
    return {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "status": result.status.value,
    }


@router.get(
    "/{run_id}/events",
    response_model=answer(EventListOut),
    summary="The run's event log, oldest first",
)
@uses(Resource.RUNS, Action.READ)
def list_events(
    run_id: str,
    who: Reader,
    request: Request,
    after: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    events = _runs(request).events(who, run_id, after=after, limit=limit)
    return {"events": events, "next_after": events[-1]["seq"] if events else after}


@router.post(
    "/{run_id}/finish",
    response_model=answer(RunOut),
    summary="Finish a run: succeeded, failed or cancelled",
)
@uses(Resource.RUNS, Action.WRITE)
async def finish_run(run_id: str, body: FinishIn, who: Writer, request: Request) -> dict[str, Any]:
    return await _runs(request).finish(
        who,
        run_id,
        body.run_status,
        exit_code=body.exit_code,
        error=body.error,
        finish_id=body.id,
    )


@router.post(
    "/{run_id}/attachments",
    response_model=answer(AttachmentOut),
    responses=also(200, AttachmentOut, "The file with this id already existed"),
    status_code=201,
    summary="Attach a file: the raw body is the file, ?name= its name",
)
@uses(Resource.RUNS, Action.WRITE)
async def attach(
    run_id: str,
    who: Writer,
    request: Request,
    name: Annotated[str, Query(min_length=1, max_length=255)],
    id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> dict[str, Any]:
    """Repeat-safe with `?id=`: the same id returns the file already stored."""
    content = await request.body()
    return await _runs(request).attach(
        who, run_id, *upload_meta(request, name), content, client_id=id
    )


def upload_meta(request: Request, name: str) -> tuple[str, str]:
    """A safe file name and the declared content type of an uploaded body."""
    clean = _SAFE_NAME.sub("_", name).strip() or "file"
    return clean, request.headers.get("content-type", "application/octet-stream")[:255]


def attachment_response(row: Any) -> Response:
    """Raster images inline (as their bare type); everything else, SVG too, downloads."""
    inline = shown_inline(row.content_type)
    disposition = "inline" if inline else "attachment"
    return Response(
        row.content,
        media_type=media_type(row.content_type) if inline else "application/octet-stream",
        headers={
            "Content-Disposition": f'{disposition}; filename="{row.name}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        },
    )
