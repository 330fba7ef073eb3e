"""Reading a room's messages for a transcript: a time range, page by page, in timeline order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from .tables import attachments, messages

PAGE = 500


def messages_between(
    conn: Connection,
    room: int,
    *,
    since: datetime | None,
    until: datetime | None,
    page: int | None = None,
) -> Iterator[Any]:
    """Every message of a room with since <= created_at < until, by id, fetched in pages."""
    page = page or PAGE
    after = 0
    while True:
        query = select(messages).where(messages.c.room_id == room, messages.c.id > after)
        if since is not None:
            query = query.where(messages.c.created_at >= since)
        if until is not None:
            query = query.where(messages.c.created_at < until)
        rows = list(conn.execute(query.order_by(messages.c.id).limit(page)))
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1].id


def attachment_content(conn: Connection, attachment_id: str) -> Any:
    query = select(attachments.c.content_type, attachments.c.content).where(
        attachments.c.id == attachment_id
    )
    return conn.execute(query).first()
