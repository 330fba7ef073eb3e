"""The escalator: page the next step of every incident nobody has acknowledged in time."""

from __future__ import annotations

from datetime import datetime

from ..services.incidents import IncidentService


class Escalator:
    name = "escalator"

    def __init__(self, incidents: IncidentService) -> None:
        self.incidents = incidents

    async def tick(self, now: datetime) -> bool:
        """Page the escalation steps due at `now`. True if any incident moved on."""
        return await self.incidents.escalate(now) > 0
