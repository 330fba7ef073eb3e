"""Inbound integrations, the deliveries they already received, and room bridges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .tables import channels, hook_deliveries, integrations, messages, room_bridges, rooms


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def insert_integration(conn: Connection, **values: Any) -> int:
    values.setdefault("rejected", 0)
    return _new_id(conn.execute(insert(integrations).values(**values)))


def _with_room() -> Any:
    return select(integrations, rooms.c.name.label("room")).join(
        rooms, rooms.c.id == integrations.c.room_id
    )


def by_name(conn: Connection, name: str) -> Any:
    return conn.execute(_with_room().where(integrations.c.name == name)).first()


def by_token_hash(conn: Connection, token_hash: str) -> Any:
    return conn.execute(_with_room().where(integrations.c.token_hash == token_hash)).first()


def list_integrations(conn: Connection) -> list[Any]:
    return list(conn.execute(_with_room().order_by(integrations.c.name)))


def delete_integration(conn: Connection, integration_id: int) -> None:
    conn.execute(delete(hook_deliveries).where(hook_deliveries.c.integration_id == integration_id))
    conn.execute(delete(integrations).where(integrations.c.id == integration_id))


def record_rejection(
    conn: Connection, integration_id: int, error: str, now: datetime, *, noted: bool
) -> None:
    values: dict[str, Any] = {
        "rejected": integrations.c.rejected + 1,
        "last_error": error,
        "last_error_at": now,
    }
    if noted:
        values["noted_at"] = now
    conn.execute(update(integrations).where(integrations.c.id == integration_id).values(**values))


def first_delivery(conn: Connection, integration_id: int, delivery_id: str, now: datetime) -> bool:
    """Remember a delivery id; False if it was already received (a redelivery)."""
    try:
        with conn.begin_nested():
            conn.execute(
                insert(hook_deliveries).values(
                    integration_id=integration_id, delivery_id=delivery_id, created_at=now
                )
            )
    except IntegrityError:
        return False
    return True


def forget_deliveries(conn: Connection, integration_id: int, before: datetime) -> None:
    """Forget the integration's deliveries received before `before`."""
    conn.execute(
        delete(hook_deliveries).where(
            hook_deliveries.c.integration_id == integration_id,
            hook_deliveries.c.created_at < before,
        )
    )


# -- room bridges -----------------------------------------------------------------------


def insert_bridge(conn: Connection, room_id: int, channel_id: int, now: datetime) -> int:
    newest = conn.execute(
        select(messages.c.id).where(messages.c.room_id == room_id).order_by(messages.c.id.desc())
    ).first()
    return _new_id(
        conn.execute(
            insert(room_bridges).values(
                room_id=room_id,
                channel_id=channel_id,
                last_message_id=newest.id if newest else 0,
                created_at=now,
            )
        )
    )


def bridge(conn: Connection, room_id: int, channel_id: int) -> Any:
    query = select(room_bridges).where(
        room_bridges.c.room_id == room_id, room_bridges.c.channel_id == channel_id
    )
    return conn.execute(query).first()


def list_bridges(conn: Connection) -> list[Any]:
    query = (
        select(room_bridges, rooms.c.name.label("room"), channels.c.name.label("channel"))
        .join(rooms, rooms.c.id == room_bridges.c.room_id)
        .join(channels, channels.c.id == room_bridges.c.channel_id)
        .where(channels.c.disabled_at.is_(None))
        .order_by(room_bridges.c.id)
    )
    return list(conn.execute(query))


def delete_bridge(conn: Connection, bridge_id: int) -> bool:
    return conn.execute(delete(room_bridges).where(room_bridges.c.id == bridge_id)).rowcount == 1


def messages_after(conn: Connection, room_id: int, after: int, limit: int) -> list[Any]:
    query = (
        select(messages.c.id, messages.c.author, messages.c.kind, messages.c.body, messages.c.data)
        .where(messages.c.room_id == room_id, messages.c.id > after)
        .order_by(messages.c.id)
        .limit(limit)
    )
    return list(conn.execute(query))


def advance_bridge(conn: Connection, bridge_id: int, was: int, to: int) -> bool:
    """Move a bridge's cursor; True only for the node whose UPDATE changed it."""
    query = (
        update(room_bridges)
        .where(room_bridges.c.id == bridge_id, room_bridges.c.last_message_id == was)
        .values(last_message_id=to)
    )
    return conn.execute(query).rowcount == 1
