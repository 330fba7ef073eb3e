"""The monitor: notice late and missed jobs, and stalled, overdue and lost runs."""

from __future__ import annotations

from datetime import datetime

from ..services.monitoring import MonitorService


class Monitor:
    name = "monitor"

    def __init__(self, monitoring: MonitorService) -> None:
        self.monitoring = monitoring

    async def tick(self, now: datetime) -> bool:
        """Record every transition due at `now`. True if it recorded any."""
        return await self.monitoring.step(now) > 0
