"""Reading and writing API tokens (only their hashes are kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from .tables import settings, tokens


def insert_token(conn: Connection, **values: Any) -> None:
    conn.execute(insert(tokens).values(**values))


def get_token(conn: Connection, token_id: str) -> Any:
    return conn.execute(select(tokens).where(tokens.c.id == token_id)).first()


def list_tokens(conn: Connection) -> list[Any]:
    return list(conn.execute(select(tokens).order_by(tokens.c.created_at)))


# Built once: run at the end of every run (see services.tokens.revoke_run_token).
_REVOKE = (
    update(tokens)
    .where(tokens.c.id == bindparam("p_id"), tokens.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("p_at"))
)


def revoke_token(conn: Connection, token_id: str, at: datetime) -> bool:
    """Set the token to stop working at `at` (unless it already has an end)."""
    result = conn.execute(_REVOKE, {"p_id": token_id, "p_at": at})
    return result.rowcount == 1


def revoke_tokens(conn: Connection, token_ids: list[str], at: datetime) -> None:
    """revoke_token for several tokens, in one statement."""
    if token_ids:
        conn.execute(_REVOKE, [{"p_id": token_id, "p_at": at} for token_id in token_ids])


def get_setting(conn: Connection, key: str) -> Any:
    return conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()


def put_setting(conn: Connection, key: str, value: Any) -> None:
    if conn.execute(select(settings.c.key).where(settings.c.key == key)).first():
        conn.execute(update(settings).where(settings.c.key == key).values(value=value))
    else:
        conn.execute(insert(settings).values(key=key, value=value))
