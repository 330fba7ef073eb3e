"""Reading and writing share links (only the hash of a link's secret is kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from .tables import jobs, rooms, share_links


def insert_share(conn: Connection, **values: Any) -> None:
    conn.execute(insert(share_links).values(**values))


def get_share(conn: Connection, share_id: str) -> Any:
    return conn.execute(select(share_links).where(share_links.c.id == share_id)).first()


def list_shares(conn: Connection) -> list[Any]:
    return list(conn.execute(select(share_links).order_by(share_links.c.created_at)))


def revoke_share(conn: Connection, share_id: str, now: datetime) -> bool:
    result = conn.execute(
        update(share_links)
        .where(share_links.c.id == share_id, share_links.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


def target_exists(conn: Connection, kind: str, name: str) -> bool:
    table = rooms if kind == "room" else jobs
    return conn.execute(select(table.c.id).where(table.c.name == name)).first() is not None
