"""/api/v1/search and /api/v1/rooms/{room}/transcript: finding and exporting what was said."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from ...domain.policy import Action, Resource
from ...services.search import MAX_LIMIT, MAX_QUERY, SearchService
from ...services.transcripts import TranscriptService
from ..answers import answer
from ..auth import Reader, uses
from ..responses import text_answers
from .answers import SearchOut
from .schemas import When

router = APIRouter(tags=["rooms"])


@router.get(
    "/search",
    response_model=answer(SearchOut),
    summary="Full-text search of messages in the rooms you may read",
)
@uses(Resource.SEARCH, Action.READ)
def search(
    who: Reader,
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY)],
    room: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> dict[str, Any]:
    service: SearchService = request.app.state.search
    return {"results": service.search(who, q, room=room, limit=limit)}


@router.get(
    "/rooms/{room}/transcript",
    summary="A room's transcript for a time range: Markdown, self-contained HTML or JSON Lines",
    response_class=Response,
    responses=text_answers("text/markdown", "text/html", "application/x-ndjson"),
)
@uses(Resource.SEARCH, Action.READ)
def transcript(
    room: str,
    who: Reader,
    request: Request,
    fmt: Annotated[Literal["md", "html", "jsonl"], Query(alias="format")] = "md",
    since: When | None = None,
    until: When | None = None,
) -> Response:
    service: TranscriptService = request.app.state.transcripts
    content, media_type, filename = service.export(
        who, room, since=since, until=until, fmt=fmt, base_url=str(request.base_url)
    )
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
        },
    )
