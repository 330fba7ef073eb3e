"""The agent assigner: mark silent agents lost, hand queued runs to live agents."""

from __future__ import annotations

from datetime import datetime

from ..services.agents import AgentService


class AgentAssigner:
    name = "agents"

    def __init__(self, agents: AgentService) -> None:
        self.agents = agents

    async def tick(self, now: datetime) -> bool:
        """One step: True if an agent was lost or a run handed out (look again soon)."""
        return await self.agents.step(now)
