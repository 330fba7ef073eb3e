"""The bridge: rooms mirrored to channels. Each tick queues new messages in the outbox;
the dispatcher delivers them."""

from __future__ import annotations

from datetime import datetime

from ..services.integrations import IntegrationService


class Bridge:
    name = "bridge"

    def __init__(self, integrations: IntegrationService) -> None:
        self.integrations = integrations

    async def tick(self, now: datetime) -> bool:
        """Queue one batch of new messages per bridge. True if there were any."""
        return await self.integrations.mirror() > 0
