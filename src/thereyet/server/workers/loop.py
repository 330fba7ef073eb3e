"""One loop drives every background worker.

A worker has `async tick(now) -> bool`: do one step of work, say whether
there was any. Tests call `tick` directly with a fake clock; in the hub this
loop calls each worker about once a second, and again at once if it was busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from ..clock import Clock

log = logging.getLogger(__name__)


class Worker(Protocol):
    name: str

    async def tick(self, now: datetime) -> bool: ...


class WorkerLoop:
    def __init__(self, workers: Sequence[Worker], clock: Clock, *, interval: float = 1.0) -> None:
        self.workers = list(workers)
        self.clock = clock
        self.interval = interval
        self.ticked_at: float | None = None  # when the last round ended (Unix time): a heartbeat
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.workers:
            self._task = asyncio.create_task(self._run(), name="thereyet-workers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run_once(self) -> bool:
        """Tick every worker once; True if any of them found work."""
        busy = False
        for worker in self.workers:
            try:
                busy = await worker.tick(self.clock.now()) or busy
            except Exception:
                log.exception("worker %s failed; it will be ticked again", worker.name)
        self.ticked_at = self.clock.now().timestamp()
        return busy

    async def _run(self) -> None:
        while True:
            busy = await self.run_once()
            await asyncio.sleep(0.05 if busy else self.interval)
