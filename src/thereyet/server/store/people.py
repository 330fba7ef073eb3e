"""Reading and writing web users and their sessions (only hashes of secrets are kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from .tables import users, web_sessions


def insert_user(conn: Connection, **values: Any) -> None:
    conn.execute(insert(users).values(**values))


def get_user(conn: Connection, username: str) -> Any:
    return conn.execute(select(users).where(users.c.username == username)).first()


def list_users(conn: Connection) -> list[Any]:
    return list(conn.execute(select(users).order_by(users.c.username)))


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def set_role(conn: Connection, user_id: int, role: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(role=role))


def disable_user(conn: Connection, user_id: int, now: datetime) -> None:
    conn.execute(
        update(users)
        .where(users.c.id == user_id, users.c.disabled_at.is_(None))
        .values(disabled_at=now)
    )


def insert_session(conn: Connection, **values: Any) -> None:
    conn.execute(insert(web_sessions).values(**values))


def get_session(conn: Connection, session_id: str) -> Any:
    """The session joined with its user's name, role and disabled time."""
    query = (
        select(
            web_sessions,
            users.c.username,
            users.c.role,
            users.c.disabled_at,
        )
        .join(users, users.c.id == web_sessions.c.user_id)
        .where(web_sessions.c.id == session_id)
    )
    return conn.execute(query).first()


def delete_session(conn: Connection, session_id: str) -> bool:
    result = conn.execute(delete(web_sessions).where(web_sessions.c.id == session_id))
    return result.rowcount == 1


def delete_sessions_of(
    conn: Connection, user_id: int, *, expired_before: datetime | None = None
) -> None:
    """Delete a user's sessions: all of them, or only those expired before a time."""
    query = delete(web_sessions).where(web_sessions.c.user_id == user_id)
    if expired_before is not None:
        query = query.where(web_sessions.c.expires_at <= expired_before)
    conn.execute(query)
