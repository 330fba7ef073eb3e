"""Rooms and their messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..domain.access import Principal
from ..domain.names import NAME_RULE, is_valid_name
from ..hub import Hub
from ..store import rooms as store
from ..store.writer import Tx
from .attachments import check_attachment, save_attachment
from .errors import Conflict, Forbidden, Invalid, NotFound
from .views import iso, message_view

MAX_PAGE = 500


def check_name(name: str, field: str) -> None:
    if not is_valid_name(name):
        raise Invalid(f"{field} must be {NAME_RULE}", field=field)


def post_in_rooms(
    tx: Tx,
    hub: Hub,
    room_ids: Iterable[int],
    *,
    author: str,
    kind: str,
    body: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Write one message into each room and announce it once committed."""
    for room_id in room_ids:
        message_id = store.insert_message(
            tx.conn, room_id, now=tx.now, author=author, kind=kind, body=body, data=data
        )
        _announce(tx, hub, message_id)


def _announce(tx: Tx, hub: Hub, message_id: int) -> dict[str, Any]:
    row = store.get_message(tx.conn, message_id)
    room = store.room_name(tx.conn, row.room_id)
    view = message_view(row, room)
    tx.after_commit(lambda: hub.bus.publish(f"room:{room}", view))
    return view


def room_view(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "title": row.title,
        "topic": row.topic,
        "created_at": iso(row.created_at),
    }


@dataclass(frozen=True)
class PostedMessage:
    view: dict[str, Any]
    created: bool


PostedHook = Callable[[Principal, str, str], Awaitable[None]]


class RoomService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        # Called with (who, room, text) after a new message is committed: ChatOps commands.
        self.posted_hooks: list[PostedHook] = []
        # A message too long to cross to other nodes whole is read there by its id.
        hub.bus.by_reference("room:", self._live_message, always=False)

    def _live_message(self, _topic: str, message_id: str) -> dict[str, Any] | None:
        with self.hub.engines.read.connect() as conn:
            row = store.get_message(conn, int(message_id))
            return None if row is None else message_view(row, store.room_name(conn, row.room_id))

    async def create(self, who: Principal, name: str, title: str, topic: str) -> dict[str, Any]:
        check_name(name, "name")
        if not who.is_admin and not who.may_post_in(name):
            raise Forbidden("this token may not create rooms")

        def write(tx: Tx) -> dict[str, Any]:
            if store.room_id(tx.conn, name) is not None:
                raise Conflict(f"room {name!r} already exists", field="name")
            store.create_room(tx.conn, name, tx.now, title=title, topic=topic)
            return room_view(store.get_room(tx.conn, name))

        return await self.hub.writer.run(write)

    def all(self, who: Principal) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            rows = store.list_rooms(conn)
        return [
            {**room_view(row), "last_message_id": row.last_id}
            for row in rows
            if who.may_read_room(row.name)
        ]

    def get(self, who: Principal, name: str) -> dict[str, Any]:
        with self.hub.engines.read.connect() as conn:
            row = store.get_room(conn, name)
        if row is None or not who.may_read_room(name):
            raise NotFound(f"no room named {name!r}")
        return room_view(row)

    async def post(
        self, who: Principal, room: str, text: str, client_id: str | None
    ) -> PostedMessage:
        if not who.may_post_in(room):
            raise Forbidden(f"this token may not post in room {room!r}")

        def write(tx: Tx) -> PostedMessage:
            room_id = store.room_id(tx.conn, room)
            if room_id is None:
                raise NotFound(f"no room named {room!r}")
            if client_id is not None:
                existing = store.message_by_client_id(tx.conn, room_id, client_id)
                if existing is not None:
                    return PostedMessage(message_view(existing, room), created=False)
            message_id = store.insert_message(
                tx.conn,
                room_id,
                now=tx.now,
                author=who.name,
                kind="text",
                body=text,
                client_id=client_id,
            )
            return PostedMessage(_announce(tx, self.hub, message_id), created=True)

        posted = await self.hub.writer.run(write)
        if posted.created:
            for hook in self.posted_hooks:
                await hook(who, room, text)
        return posted

    async def attach(
        self,
        who: Principal,
        room: str,
        *,
        name: str,
        content_type: str,
        content: bytes,
        text: str = "",
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """Post a file in a room, as a message carrying the attachment.

        With the client's own id, a retried upload returns the first message."""
        if not who.may_post_in(room):
            raise Forbidden(f"this token may not post in room {room!r}")
        check_attachment(content, self.hub.settings.max_attachment_bytes)

        def write(tx: Tx) -> dict[str, Any]:
            room_id = store.room_id(tx.conn, room)
            if room_id is None:
                raise NotFound(f"no room named {room!r}")
            if client_id and (found := store.message_by_client_id(tx.conn, room_id, client_id)):
                return message_view(found, room)
            attachment = save_attachment(
                tx, name=name, content_type=content_type, content=content, room_id=room_id
            )
            message_id = store.insert_message(
                tx.conn,
                room_id,
                now=tx.now,
                author=who.name,
                kind="attachment",
                body=text or f"attached {name}",
                data={"attachment": attachment},
                client_id=client_id,
            )
            return _announce(tx, self.hub, message_id)

        return await self.hub.writer.run(write)

    def messages(
        self, who: Principal, room: str, *, before: int | None, after: int | None, limit: int
    ) -> list[dict[str, Any]]:
        limit = max(1, min(limit, MAX_PAGE))
        with self.hub.engines.read.connect() as conn:
            room_id = store.room_id(conn, room)
            if room_id is None or not who.may_read_room(room):
                raise NotFound(f"no room named {room!r}")
            rows = store.list_messages(conn, room_id, before=before, after=after, limit=limit)
        return [message_view(row, room) for row in rows]
