"""The pruner: keeps each job's history to its latest runs (services/retention.py)."""

from __future__ import annotations

from datetime import datetime

from ..services.retention import RetentionService


class Pruner:
    name = "pruner"

    def __init__(self, retention: RetentionService) -> None:
        self.retention = retention

    async def tick(self, now: datetime) -> bool:
        """Prune one slice of jobs. True if it removed anything (so it is ticked again soon)."""
        return (await self.retention.step(now)).rows > 0
