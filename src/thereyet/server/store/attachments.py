"""Reading and writing attachments (kept in the database, so every hub node sees them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from .tables import attachments

_META = [c for c in attachments.c if c.name != "content"]


def insert_attachment(conn: Connection, **values: Any) -> None:
    conn.execute(insert(attachments).values(**values))


def get_attachment(conn: Connection, attachment_id: str, *, content: bool = False) -> Any:
    columns = list(attachments.c) if content else _META
    return conn.execute(select(*columns).where(attachments.c.id == attachment_id)).first()


def run_attachments(conn: Connection, run_id: str) -> list[Any]:
    query = select(*_META).where(attachments.c.run_id == run_id).order_by(attachments.c.created_at)
    return list(conn.execute(query))
