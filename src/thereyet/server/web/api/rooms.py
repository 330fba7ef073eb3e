"""/api/v1/rooms: rooms and their messages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from ...domain.policy import Action, Resource
from ...services.rooms import RoomService
from ..answers import also, answer
from ..auth import Reader, Writer, uses
from ..bounds import INT64_MAX
from .answers import MessageListOut, MessageOut, RoomListOut, RoomOut
from .runs import upload_meta
from .schemas import ID_PATTERN, MessageIn, RoomIn

router = APIRouter(prefix="/rooms", tags=["rooms"])


def _rooms(request: Request) -> RoomService:
    service: RoomService = request.app.state.rooms
    return service


@router.post("", response_model=answer(RoomOut), status_code=201, summary="Create a room")
@uses(Resource.ROOMS, Action.MANAGE)
async def create_room(body: RoomIn, who: Writer, request: Request) -> dict[str, Any]:
    return await _rooms(request).create(who, body.name, body.title, body.topic)


@router.get("", response_model=answer(RoomListOut), summary="List rooms")
@uses(Resource.ROOMS, Action.READ)
def list_rooms(who: Reader, request: Request) -> dict[str, Any]:
    return {"rooms": _rooms(request).all(who)}


@router.get("/{room}", response_model=answer(RoomOut), summary="One room")
@uses(Resource.ROOMS, Action.READ)
def get_room(room: str, who: Reader, request: Request) -> dict[str, Any]:
    return _rooms(request).get(who, room)


@router.post(
    "/{room}/messages",
    response_model=answer(MessageOut),
    responses=also(200, MessageOut, "The message with this id already existed"),
    status_code=201,
    summary="Post a message (repeat-safe with an id)",
)
@uses(Resource.ROOMS, Action.WRITE)
async def post_message(room: str, body: MessageIn, who: Writer, request: Request) -> JSONResponse:
    posted = await _rooms(request).post(who, room, body.text, body.id)
    return JSONResponse(posted.view, status_code=201 if posted.created else 200)


@router.post(
    "/{room}/attachments",
    response_model=answer(MessageOut),
    responses=also(200, MessageOut, "The file with this id already existed"),
    status_code=201,
    summary="Post a file in the room: the raw body is the file, ?name= its name",
)
@uses(Resource.ROOMS, Action.WRITE)
async def attach(
    room: str,
    who: Writer,
    request: Request,
    name: Annotated[str, Query(min_length=1, max_length=255)],
    text: Annotated[str, Query(max_length=2000)] = "",
    id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> dict[str, Any]:
    content = await request.body()
    clean, content_type = upload_meta(request, name)
    return await _rooms(request).attach(
        who,
        room,
        name=clean,
        content_type=content_type,
        content=content,
        text=text,
        client_id=id,
    )


@router.get(
    "/{room}/messages",
    response_model=answer(MessageListOut),
    summary="A page of messages in time order: the newest, or before/after a cursor",
)
@uses(Resource.ROOMS, Action.READ)
def list_messages(
    room: str,
    who: Reader,
    request: Request,
    before: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
    after: Annotated[int | None, Query(ge=0, le=INT64_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    found = _rooms(request).messages(who, room, before=before, after=after, limit=limit)
    full = len(found) == limit
    return {
        "messages": found,
        # Older page: pass as ?before=; newer messages: pass next_after as ?after=.
        "prev_cursor": found[0]["id"] if found and (full or after is not None) else None,
        "next_after": found[-1]["id"] if found else after,
    }
