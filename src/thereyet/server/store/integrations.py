"""Inbound integrations, the deliveries they received, and room bridges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .tables import (
    channels,
    hook_deliveries,
    incident_services,
    integration_deliveries,
    integrations,
    messages,
    room_bridges,
    rooms,
)

DELIVERIES_KEPT = 20  # per integration: the newest are kept, older ones are forgotten


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def insert_integration(conn: Connection, **values: Any) -> int:
    values.setdefault("rejected", 0)
    return _new_id(conn.execute(insert(integrations).values(**values)))


def _with_room() -> Any:
    """Integrations with the names of the room or service they post to."""
    return (
        select(
            integrations,
            rooms.c.name.label("room"),
            incident_services.c.name.label("service"),
        )
        .outerjoin(rooms, rooms.c.id == integrations.c.room_id)
        .outerjoin(incident_services, incident_services.c.id == integrations.c.service_id)
    )


def by_name(conn: Connection, name: str) -> Any:
    return conn.execute(_with_room().where(integrations.c.name == name)).first()


def by_token_hash(conn: Connection, token_hash: str) -> Any:
    """The live (not revoked) integration of this token hash, or None."""
    query = _with_room().where(
        integrations.c.token_hash == token_hash, integrations.c.revoked_at.is_(None)
    )
    return conn.execute(query).first()


def list_integrations(conn: Connection) -> list[Any]:
    return list(conn.execute(_with_room().order_by(integrations.c.name)))


def delete_integration(conn: Connection, integration_id: int) -> None:
    for table in (hook_deliveries, integration_deliveries):
        conn.execute(delete(table).where(table.c.integration_id == integration_id))
    conn.execute(delete(integrations).where(integrations.c.id == integration_id))


def record_delivery(conn: Connection, integration_id: int, **values: Any) -> None:
    """Keep one delivery (received_at, status, error, summary); forget all but the newest
    DELIVERIES_KEPT of the integration."""
    conn.execute(insert(integration_deliveries).values(integration_id=integration_id, **values))
    table = integration_deliveries
    oldest_kept = (
        select(table.c.id)
        .where(table.c.integration_id == integration_id)
        .order_by(table.c.id.desc())
        .offset(DELIVERIES_KEPT - 1)
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(
        delete(table).where(table.c.integration_id == integration_id, table.c.id < oldest_kept)
    )


def deliveries(conn: Connection, integration_ids: list[int]) -> dict[int, list[Any]]:
    """The kept deliveries of each integration, newest first."""
    table = integration_deliveries
    query = (
        select(table)
        .where(table.c.integration_id.in_(integration_ids))
        .order_by(table.c.integration_id, table.c.id.desc())
    )
    found: dict[int, list[Any]] = {i: [] for i in integration_ids}
    for row in conn.execute(query):
        found[row.integration_id].append(row)
    return found


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


def list_channel_bridges(conn: Connection, channel_id: int) -> list[Any]:
    """Every bridge to the channel (enabled or not)."""
    query = select(room_bridges).where(room_bridges.c.channel_id == channel_id)
    return list(conn.execute(query.order_by(room_bridges.c.id)))


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
