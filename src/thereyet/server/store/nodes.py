"""Hub nodes, their heartbeats, and the claims they hold (see domain/leases.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from .claims import unlocked
from .tables import command_runs, hub_nodes, outbox, rooms


def register(conn: Connection, name: str, host: str, pid: int, now: datetime) -> None:
    """Record a node as alive from `now` (a node of the same name is replaced)."""
    conn.execute(delete(hub_nodes).where(hub_nodes.c.name == name))
    conn.execute(
        insert(hub_nodes).values(name=name, host=host, pid=pid, started_at=now, heartbeat_at=now)
    )


def beat(conn: Connection, name: str, now: datetime) -> bool:
    """Record a heartbeat; False if the node's row is gone (another node took it for dead)."""
    result = conn.execute(
        update(hub_nodes).where(hub_nodes.c.name == name).values(heartbeat_at=now)
    )
    return result.rowcount == 1


def forget(conn: Connection, names: Sequence[str]) -> None:
    """Remove these nodes' rows; a row another transaction holds is left for later."""
    if names:
        conn.execute(delete(hub_nodes).where(unlocked(hub_nodes, hub_nodes.c.name.in_(names))))


def lapsed(conn: Connection, before: datetime, *, besides: str) -> list[str]:
    """Nodes (other than `besides`) whose last heartbeat is older than `before`."""
    query = select(hub_nodes.c.name).where(
        hub_nodes.c.heartbeat_at < before, hub_nodes.c.name != besides
    )
    return list(conn.execute(query.order_by(hub_nodes.c.name)).scalars())


def up_since(conn: Connection, alive_after: datetime) -> datetime | None:
    """When the oldest node still heartbeating (since `alive_after`) started, if any."""
    query = select(func.min(hub_nodes.c.started_at)).where(hub_nodes.c.heartbeat_at >= alive_after)
    found: datetime | None = conn.execute(query).scalar()
    return found


def list_nodes(conn: Connection) -> list[Any]:
    return list(conn.execute(select(hub_nodes).order_by(hub_nodes.c.started_at)))


# -- outbox claims ----------------------------------------------------------------------


def renew_claims(conn: Connection, node: str, until: datetime) -> int:
    """Extend every outbox claim this node holds to `until` (its work goes on)."""
    result = conn.execute(
        update(outbox)
        .where(unlocked(outbox, outbox.c.claimed_by == node, outbox.c.status == "pending"))
        .values(claimed_until=until)
    )
    return int(result.rowcount)


def release_claims(conn: Connection, nodes: Sequence[str]) -> int:
    """Free the outbox rows these (dead or restarted) nodes had claimed; return how many."""
    if not nodes:
        return 0
    result = conn.execute(
        update(outbox)
        .where(unlocked(outbox, outbox.c.claimed_by.in_(nodes), outbox.c.status == "pending"))
        .values(claimed_by=None, claimed_until=None)
    )
    return int(result.rowcount)


# -- chat commands ----------------------------------------------------------------------


def running_commands(conn: Connection, nodes: Sequence[str]) -> list[Any]:
    """Chat commands these nodes were running, with their room's name."""
    if not nodes:
        return []
    query = (
        select(command_runs, rooms.c.name.label("room"))
        .join(rooms, rooms.c.id == command_runs.c.room_id)
        .where(command_runs.c.status == "running", command_runs.c.node.in_(nodes))
        .order_by(command_runs.c.id)
    )
    return list(conn.execute(query))


def mark_command_lost(conn: Connection, record_id: int, now: datetime, why: str) -> bool:
    """Mark a running command lost; False if it ended (or another node did it) meanwhile."""
    result = conn.execute(
        update(command_runs)
        .where(
            unlocked(
                command_runs, command_runs.c.id == record_id, command_runs.c.status == "running"
            )
        )
        .values(status="lost", finished_at=now, error=why)
    )
    return result.rowcount == 1
