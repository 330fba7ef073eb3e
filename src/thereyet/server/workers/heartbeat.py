"""The heartbeat: this node says it is alive, and frees the claims of nodes that are not.

It has a loop of its own, so a slow send or a long monitor step never delays a
heartbeat (a late one would let other nodes take this node for dead)."""

from __future__ import annotations

from datetime import datetime

from ..services.nodes import NodeService


class Heartbeat:
    name = "heartbeat"

    def __init__(self, nodes: NodeService) -> None:
        self.nodes = nodes

    async def tick(self, now: datetime) -> bool:
        """Beat if one is due. Never busy: the loop waits its interval after each tick."""
        return await self.nodes.beat(now)
