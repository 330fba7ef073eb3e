"""Full-text search of room messages: FTS5 on SQLite, a GIN-indexed tsvector on PostgreSQL.

Migration 0002 builds both indexes. The PostgreSQL expression below must stay
`to_tsvector('simple', body)` word for word, or the planner will not use the index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, column, select, table, text

from .tables import messages, rooms

_fts = table("messages_fts", column("rowid"))
_FTS_MATCH = text("messages_fts MATCH :fts_query")
_PG_MATCH = text("to_tsvector('simple', messages.body) @@ plainto_tsquery('simple', :pg_query)")


def search_messages(
    conn: Connection,
    *,
    fts_query: str,
    plain_query: str,
    room_ids: Sequence[int] | None,
    limit: int,
) -> list[Any]:
    """Messages matching, newest first, with their room's name as `room_name`.

    `fts_query` is an FTS5 query (already made safe by the caller) used on
    SQLite; `plain_query` is the user's text, parsed by plainto_tsquery on
    PostgreSQL. `room_ids` None means every room.
    """
    query = select(messages, rooms.c.name.label("room_name")).join(
        rooms, rooms.c.id == messages.c.room_id
    )
    if conn.dialect.name == "sqlite":
        matching = select(_fts.c.rowid).where(_FTS_MATCH.bindparams(fts_query=fts_query))
        query = query.where(messages.c.id.in_(matching.scalar_subquery()))
    else:
        query = query.where(_PG_MATCH.bindparams(pg_query=plain_query))
    if room_ids is not None:
        query = query.where(messages.c.room_id.in_(list(room_ids)))
    return list(conn.execute(query.order_by(messages.c.id.desc()).limit(limit)))
