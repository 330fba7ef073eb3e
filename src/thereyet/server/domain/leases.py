"""Nodes and leases: the rules by which a claim ends with its holder.

Every hub node records a heartbeat every HEARTBEAT_SECONDS. A claim (an outbox
row being sent, a chat command being run) names its node and lasts
LEASE_SECONDS; the node renews its leases with each heartbeat while the work
goes on. A node whose heartbeat is older than LAPSE_SECONDS is dead: any other
node releases its claims at once, without waiting for the leases to end. A
lease that ends unrenewed (a node that lives but is stuck) is free again too.

Nodes are assumed to have clocks in step (NTP); LAPSE_SECONDS is several
heartbeats long so a busy node is not taken for a dead one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

HEARTBEAT_SECONDS = 2.0
LAPSE_SECONDS = 10.0
LEASE_SECONDS = 30.0


def node_name(host: str, pid: int, started: datetime) -> str:
    """A name unique to one process: host, pid and start time (a restart is a new node)."""
    return f"{host}-{pid}-{int(started.timestamp() * 1000) % 10**8:08d}"


def lease_until(now: datetime) -> datetime:
    """When a claim taken or renewed at `now` ends unless renewed again."""
    return now + timedelta(seconds=LEASE_SECONDS)


def lapsed_before(now: datetime) -> datetime:
    """A node whose last heartbeat is older than this is dead."""
    return now - timedelta(seconds=LAPSE_SECONDS)


def is_lapsed(heartbeat_at: datetime, now: datetime) -> bool:
    return heartbeat_at < lapsed_before(now)


def beat_due(last_beat: datetime | None, now: datetime) -> bool:
    """Whether a node that last beat at `last_beat` should beat again at `now`.

    A clock that stepped back beats at once rather than waiting for it to catch up."""
    if last_beat is None or now < last_beat:
        return True
    return (now - last_beat).total_seconds() >= HEARTBEAT_SECONDS
