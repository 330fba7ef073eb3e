"""`thereyet server --demo`: a room with a few simulated runs, so the hub looks alive.

- warehouse-migration: a long migration with steady progress, restarted when done;
- league-matches: a routine scheduled every minute (its job page shows the schedule)
  that plays 64 matches;
- billing-sync: a routine that fails partway every few minutes.

With a DemoAgent, a local agent runs league-matches for real on `!run league-matches`.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime

from ..domain.access import SYSTEM
from ..domain.events import Event, Log, Progress, Stat
from ..domain.runs import RunStatus
from ..services.errors import Conflict
from ..services.rooms import RoomService
from ..services.runs import NewRun, RunService
from ..services.schedules import JobConfig, ScheduleService
from .demo_agent import DemoAgent

ROOM = "demo"


@dataclass
class _Sim:
    job: str
    total: float
    unit: str
    speed: float  # units per second
    every: float  # seconds between starts
    fail_at: float | None = None  # fraction done where it fails
    schedule: str | None = None  # registered, so the job page shows it; starts on its grid
    run_id: str | None = None
    started: datetime | None = None
    done: float = 0.0
    last_start: datetime | None = None


class Demo:
    name = "demo"

    def __init__(
        self,
        runs: RunService,
        rooms: RoomService,
        seed: int | None = None,
        schedules: ScheduleService | None = None,
        agent: DemoAgent | None = None,
    ) -> None:
        self.runs = runs
        self.rooms = rooms
        self.schedules = schedules
        self.agent = agent
        self.random = random.Random(seed)
        self.seeded = False
        self.sims = [
            _Sim("warehouse-migration", 2_400_000, "rows", 4_000, every=0),
            _Sim("league-matches", 64, "matches", 2.5, every=60, schedule="every 1m"),
            _Sim("billing-sync", 12_000, "invoices", 150, every=150, fail_at=0.6),
        ]

    async def tick(self, now: datetime) -> bool:
        if not self.seeded:
            await self._seed()
        busy = False
        for sim in self.sims:
            busy = await self._step(sim, now) or busy
        return busy

    async def _seed(self) -> None:
        try:
            await self.rooms.create(SYSTEM, ROOM, "Demo room", "Simulated runs to look at")
        except Conflict:
            pass
        else:
            await self.rooms.post(
                SYSTEM, ROOM, "Welcome! These runs are simulated by `thereyet server --demo`.", None
            )
        for sim in self.sims:
            if sim.schedule and self.schedules is not None:
                # A grace of half a period: the demo starts on the grid, within a tick.
                limits: dict[str, float | str | None] = {"grace": sim.every / 2}
                config = JobConfig(schedule=sim.schedule, room=ROOM, limits=limits)
                await self.schedules.configure(sim.job, config)
        if self.agent is not None:
            await self.agent.start(ROOM)
            # The agent runs league-matches for real, on its schedule and on `!run`.
            self.sims = [sim for sim in self.sims if sim.job != self.agent.job]
        self.seeded = True

    @staticmethod
    def _due(sim: _Sim, now: datetime) -> bool:
        """Whether a sim starts again: on its schedule's grid, or `every` after its last start."""
        if sim.last_start is None:
            return True
        if sim.schedule:
            return now.timestamp() // sim.every > sim.last_start.timestamp() // sim.every
        return (now - sim.last_start).total_seconds() >= sim.every

    async def _step(self, sim: _Sim, now: datetime) -> bool:
        if sim.run_id is None:
            if not self._due(sim, now):
                return False
            await self._start(sim, now)
            return True
        assert sim.started is not None
        elapsed = (now - sim.started).total_seconds()
        jitter = self.random.uniform(0.85, 1.15)
        sim.done = min(sim.total, max(sim.done, elapsed * sim.speed * jitter))
        events: list[Event] = [
            Progress(uuid.uuid4().hex, now, round(sim.done), sim.total, sim.unit),
            Stat(uuid.uuid4().hex, now, f"{sim.unit}_per_s", round(sim.speed * jitter, 1)),
        ]
        if self.random.random() < 0.3:
            events.append(Log(uuid.uuid4().hex, now, f"{sim.job}: {round(sim.done)} {sim.unit}"))
        await self.runs.report(SYSTEM, sim.run_id, events)
        if sim.fail_at is not None and sim.done >= sim.fail_at * sim.total:
            await self._end(
                sim,
                RunStatus.FAILED,
                exit_code=3,
                error="upstream API answered 503 three times; giving up",
            )
        elif sim.done >= sim.total:
            await self._end(sim, RunStatus.SUCCEEDED)
        return False

    async def _start(self, sim: _Sim, now: datetime) -> None:
        view, _ = await self.runs.create(
            SYSTEM,
            NewRun(
                job=sim.job,
                room=ROOM,
                host=f"demo-{self.random.randint(1, 4)}",
                trigger="schedule" if sim.every else "manual",
                total=sim.total,
                unit=sim.unit,
            ),
        )
        sim.run_id, sim.started, sim.done, sim.last_start = view["id"], now, 0.0, now

    async def _end(
        self, sim: _Sim, status: RunStatus, exit_code: int = 0, error: str | None = None
    ) -> None:
        assert sim.run_id is not None
        await self.runs.finish(SYSTEM, sim.run_id, status, exit_code=exit_code, error=error)
        sim.run_id = None
