"""This hub node's heartbeat, and the end of the claims of nodes that died.

A node registers when it starts (releasing what an earlier process of the same
name still held), beats every few seconds (renewing the leases of the work it is
doing), and at each beat releases the claims of every node whose heartbeat
lapsed: their outbox rows go back to the queue at once, and the chat commands
they were running become `lost`, with a card in their room. A node that stops
cleanly releases its own claims and leaves. The rules are in domain/leases.py.

On PostgreSQL a heartbeat is a short transaction of its own, not a change in the
writer's queue: a node whose writer is busy still beats on time (a late beat
would have other nodes take it for dead), and every statement in it skips rows
another transaction holds, so it never waits in a circle with another node.
SQLite serves one node, and its single writer takes the heartbeat like any change.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ..domain import leases
from ..hub import Hub
from ..store import nodes as store
from ..store.writer import Tx
from .rooms import post_in_rooms
from .views import iso

BOT = "thereyet"


class NodeService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.name = hub.settings.node
        self.last_beat: datetime | None = None

    async def start(self) -> None:
        """Register this node; release its own earlier claims and those of dead nodes."""

        def write(tx: Tx) -> None:
            store.register(tx.conn, self.name, socket.gethostname(), os.getpid(), tx.now)
            self._release(tx, [self.name], f"hub node {self.name} restarted")
            self._release_lapsed(tx)

        await self.hub.writer.run(write)
        self.last_beat = self.hub.clock.now()

    async def beat(self, now: datetime) -> bool:
        """Heartbeat if one is due: renew this node's leases, release dead nodes' claims.

        Return False: a heartbeat is never a reason for the loop to hurry."""
        if not leases.beat_due(self.last_beat, now):
            return False
        self.last_beat = now
        if self.hub.engines.dialect == "postgresql":
            await asyncio.to_thread(self._alone, self._beat_in)
        else:
            await self.hub.writer.run(self._beat_in)
        return False

    def _alone(self, change: Callable[[Tx], None]) -> None:
        """Make `change` in a transaction of its own, then run its after-commit hooks."""
        with self.hub.engines.write.begin() as conn:
            tx = Tx(conn, self.hub.clock.now())
            change(tx)
        for hook in tx._after:
            hook()

    def _beat_in(self, tx: Tx) -> None:
        if not store.beat(tx.conn, self.name, tx.now):
            # Taken for dead (this node was stalled longer than a lapse): its claims
            # were released; it registers again and claims afresh.
            store.register(tx.conn, self.name, socket.gethostname(), os.getpid(), tx.now)
        store.renew_claims(tx.conn, self.name, leases.lease_until(tx.now))
        self._release_lapsed(tx)

    async def stop(self) -> None:
        """Leave cleanly: release this node's claims and its row."""

        def write(tx: Tx) -> None:
            store.release_claims(tx.conn, [self.name])
            store.forget(tx.conn, [self.name])

        await self.hub.writer.run(write)

    def _release_lapsed(self, tx: Tx) -> None:
        for name in store.lapsed(tx.conn, leases.lapsed_before(tx.now), besides=self.name):
            self._release(tx, [name], f"hub node {name} stopped answering")
            store.forget(tx.conn, [name])

    def _release(self, tx: Tx, names: Sequence[str], why: str) -> None:
        store.release_claims(tx.conn, names)
        for row in store.running_commands(tx.conn, names):
            if not store.mark_command_lost(tx.conn, row.id, tx.now, why):
                continue
            text = f"✗ #{row.id} `{row.text}` lost: {why} while running it"
            data = {"command_run": row.id, "thread": f"command:{row.id}"}
            post_in_rooms(
                tx, self.hub, [row.room_id], author=BOT, kind="command", body=text, data=data
            )

    def nodes(self) -> list[dict[str, Any]]:
        """Every node that heartbeats, with whether its heartbeat lapsed."""
        now = self.hub.clock.now()
        with self.hub.engines.read.connect() as conn:
            rows = store.list_nodes(conn)
        return [
            {
                "name": r.name,
                "host": r.host,
                "pid": r.pid,
                "started_at": iso(r.started_at),
                "heartbeat_at": iso(r.heartbeat_at),
                "alive": not leases.is_lapsed(r.heartbeat_at, now),
                "this": r.name == self.name,
            }
            for r in rows
        ]
