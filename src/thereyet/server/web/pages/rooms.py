"""Pages about rooms: the list, a room's live timeline, posting, files, search, export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ...domain.policy import Action, Resource
from ...jsonsafe import INT64_MAX, int64_or_none
from ...services.errors import ServiceError
from ...services.rooms import RoomService
from ..api.runs import upload_meta
from ..api.schemas import MessageIn, When
from ..declare import uses
from ..live import frame
from .access import Viewer, check_csrf, signed_in, still_allowed, viewer_for_stream
from .folding import fold_routine
from .render import message_display, page
from .runs import STREAM_HEADERS, active_runs, blank_run

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
PAGE = 100


def _rooms(request: Request) -> RoomService:
    service: RoomService = request.app.state.rooms
    return service


@router.get("/rooms", response_class=HTMLResponse)
@uses(Resource.ROOMS, Action.READ)
def rooms_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    return page(request, "rooms.html", viewer=viewer, rooms=_rooms(request).all(viewer.principal))


@router.post("/rooms")
@uses(Resource.ROOMS, Action.MANAGE)
async def create_room(
    request: Request, viewer: SignedIn, name: Annotated[str, Form()], csrf: Annotated[str, Form()]
) -> Response:
    check_csrf(request, viewer, csrf)
    await _rooms(request).create(viewer.principal, name.strip(), "", "")
    return RedirectResponse(f"/rooms/{name.strip()}", status_code=303)


def room_context(
    request: Request, viewer: Viewer, name: str, before: int | None = None
) -> dict[str, Any]:
    """What a room page shows: its newest page of messages (or the page before a cursor),
    routine folded, and the room's runs in progress with their live bars."""
    service = _rooms(request)
    room = service.get(viewer.principal, name)
    found = service.messages(viewer.principal, name, before=before, after=None, limit=PAGE)
    messages = [message_display(m) for m in found]
    newest = (
        found
        if before is None
        else service.messages(viewer.principal, name, before=None, after=None, limit=1)
    )
    return {
        "room": room,
        "items": fold_routine(messages),
        "older": messages[0]["id"] if len(messages) == PAGE else None,
        "last_id": newest[-1]["id"] if newest else 0,
        "active": active_runs(request, viewer, room=name),
        "blank": blank_run(),
    }


@router.get("/rooms/{name}/older", response_class=HTMLResponse)
@uses(Resource.ROOMS, Action.READ)
def older_messages(
    request: Request, name: str, before: Annotated[int, Query(ge=1, le=INT64_MAX)]
) -> HTMLResponse:
    """The page of messages before `before`, as list items for the room's script to put
    above what it shows (scrolling back); the next cursor is in `X-Older` (empty at the
    start of the room)."""
    viewer = viewer_for_stream(request)
    found = _rooms(request).messages(viewer.principal, name, before=before, after=None, limit=PAGE)
    messages = [message_display(m) for m in found]
    share = request.query_params.get("share") if viewer.share is not None else None
    response = page(request, "messages.html", items=fold_routine(messages), share_token=share)
    response.headers["X-Older"] = str(messages[0]["id"]) if len(messages) == PAGE else ""
    return response


@router.get("/rooms/{name}", response_class=HTMLResponse)
@uses(Resource.ROOMS, Action.READ)
def room_page(
    request: Request,
    name: str,
    viewer: SignedIn,
    before: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
) -> HTMLResponse:
    return page(request, "room.html", viewer=viewer, **room_context(request, viewer, name, before))


@router.post("/rooms/{name}/messages")
@uses(Resource.ROOMS, Action.WRITE)
async def post_message(request: Request, name: str, viewer: SignedIn) -> Response:
    """Post from the page: JSON from the script (X-CSRF-Token), or a plain form."""
    if request.headers.get("content-type", "").startswith("application/json"):
        check_csrf(request, viewer, None)
        body = _message_in(await request.body())
        posted = await _rooms(request).post(viewer.principal, name, body.text, body.id)
        return Response(status_code=201 if posted.created else 200)
    form = await request.form()
    check_csrf(request, viewer, str(form.get("csrf", "")))
    text = str(form.get("text", "")).strip()
    if text:
        await _rooms(request).post(viewer.principal, name, text, None)
    return RedirectResponse(f"/rooms/{name}", status_code=303)


def _message_in(raw: bytes) -> MessageIn:
    try:
        return MessageIn.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


@router.post("/rooms/{name}/attachments", status_code=201)
@uses(Resource.ROOMS, Action.WRITE)
async def attach(
    request: Request,
    name: str,
    viewer: SignedIn,
    file_name: Annotated[str, Query(alias="name", min_length=1, max_length=255)],
    caption: Annotated[str, Query(alias="text", max_length=2000)] = "",
) -> dict[str, Any]:
    """A file from the room page, with the caption typed before it was sent."""
    check_csrf(request, viewer, None)
    clean, content_type = upload_meta(request, file_name)
    return await _rooms(request).attach(
        viewer.principal,
        name,
        name=clean,
        content_type=content_type,
        content=await request.body(),
        text=caption.strip(),
    )


@router.get("/live/room/{name}")
@uses(Resource.ROOMS, Action.READ)
async def live_room(
    request: Request, name: str, after: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0
) -> StreamingResponse:
    viewer = viewer_for_stream(request)
    service = _rooms(request)
    await run_in_threadpool(service.get, viewer.principal, name)  # 404 before streaming
    last_seen = int64_or_none(request.headers.get("last-event-id", ""))
    since = after if last_seen is None else last_seen

    async def catch_up() -> list[bytes]:
        frames: list[bytes] = []
        cursor = since
        while True:
            found = await run_in_threadpool(
                service.messages, viewer.principal, name, before=None, after=cursor, limit=500
            )
            if not found:
                return frames
            frames.append(frame("messages", [message_display(m) for m in found], found[-1]["id"]))
            cursor = found[-1]["id"]

    stream = request.app.state.live.stream(
        f"room:{name}",
        event="messages",
        first=catch_up,
        prepare=message_display,
        ends_with=viewer.ends_with,
        still_allowed=still_allowed(request),
    )
    return StreamingResponse(stream, media_type="text/event-stream", headers=STREAM_HEADERS)


@router.get("/search", response_class=HTMLResponse)
@uses(Resource.SEARCH, Action.READ)
def search_page(request: Request, viewer: SignedIn, q: str = "", room: str = "") -> HTMLResponse:
    hits: list[dict[str, Any]] = []
    error = None
    if q.strip():
        try:
            hits = request.app.state.search.search(viewer.principal, q, room=room or None)
        except ServiceError as exc:
            error = exc.message
    rooms = _rooms(request).all(viewer.principal)
    return page(
        request, "search.html", viewer=viewer, q=q, room=room, rooms=rooms, hits=hits, error=error
    )


@router.get("/rooms/{name}/transcript")
@uses(Resource.SEARCH, Action.READ)
def transcript(
    request: Request,
    name: str,
    viewer: SignedIn,
    format: Literal["md", "html", "jsonl"] = "md",
    since: When | None = None,
    until: When | None = None,
) -> Response:
    content, media_type, filename = request.app.state.transcripts.export(
        viewer.principal, name, since=since, until=until, fmt=format
    )
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
