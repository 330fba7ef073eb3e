"""The bridge: rooms mirrored to channels. Each tick queues new messages in the outbox;
the dispatcher delivers them."""

from __future__ import annotations

from datetime import datetime

from ..services.bridges import BridgeService


class Bridge:
    name = "bridge"

    def __init__(self, bridges: BridgeService) -> None:
        self.bridges = bridges

    async def tick(self, now: datetime) -> bool:
        """Queue one batch of new messages per bridge. True if there were any."""
        return await self.bridges.mirror() > 0
