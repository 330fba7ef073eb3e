"""The scheduler: start the routines that are due (jobs with a callback target)."""

from __future__ import annotations

from datetime import datetime

from ..services.schedules import MAX_FIRES_PER_TICK, ScheduleService


class Scheduler:
    name = "scheduler"

    def __init__(self, schedules: ScheduleService) -> None:
        self.schedules = schedules

    async def tick(self, now: datetime) -> bool:
        """Start every due occurrence no other node started. True if there may be more."""
        return await self.schedules.fire_due(now) >= MAX_FIRES_PER_TICK
