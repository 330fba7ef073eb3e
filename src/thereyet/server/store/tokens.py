"""Reading and writing API tokens (only their hashes are kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from .tables import settings, tokens


def insert_token(conn: Connection, **values: Any) -> None:
    conn.execute(insert(tokens).values(**values))


def get_token(conn: Connection, token_id: str) -> Any:
    return conn.execute(select(tokens).where(tokens.c.id == token_id)).first()


def list_tokens(conn: Connection) -> list[Any]:
    return list(conn.execute(select(tokens).order_by(tokens.c.created_at)))


def revoke_token(conn: Connection, token_id: str, now: datetime) -> bool:
    result = conn.execute(
        update(tokens)
        .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


def get_setting(conn: Connection, key: str) -> Any:
    return conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()


def put_setting(conn: Connection, key: str, value: Any) -> None:
    if conn.execute(select(settings.c.key).where(settings.c.key == key)).first():
        conn.execute(update(settings).where(settings.c.key == key).values(value=value))
    else:
        conn.execute(insert(settings).values(key=key, value=value))
