"""The hub's own health: does the database answer, and what the outbox holds."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from ..domain.access import Principal
from ..domain.hub_health import may_scrape_metrics
from ..hub import Hub
from ..store import outbox as outbox_store
from .errors import Forbidden

CHECK_EVERY = 1.0  # seconds a database check's answer is reused (load balancers poll often)
CHECK_TIMEOUT = 2.0  # seconds the database has to answer a check


class HealthService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._checked_at = -float("inf")
        self._problem: str | None = None

    async def database_problem(self) -> str | None:
        """None if the database answered a query within CHECK_TIMEOUT, else why not.

        A check's answer is reused for CHECK_EVERY seconds, so a health endpoint
        polled many times a second costs the database one query a second."""
        if time.monotonic() - self._checked_at < CHECK_EVERY:
            return self._problem
        try:
            await asyncio.wait_for(run_in_threadpool(self._ask_database), CHECK_TIMEOUT)
            problem = None
        except TimeoutError:
            problem = f"no answer within {CHECK_TIMEOUT:g} s"
        except Exception as exc:
            problem = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        self._checked_at, self._problem = time.monotonic(), problem
        return problem

    def _ask_database(self) -> None:
        with self.hub.engines.read.connect() as conn:
            conn.execute(text("SELECT 1"))

    def check_scraper(self, who: Principal | None) -> None:
        """Raise Forbidden unless `who` may read the hub's metrics."""
        if not may_scrape_metrics(who, public=self.hub.settings.metrics_public):
            raise Forbidden("metrics need an admin token or a read token without limits")

    def outbox_waiting(self) -> list[tuple[str, str, int]]:
        """(channel, status, count) of the notifications pending and failed."""
        with self.hub.engines.read.connect() as conn:
            return outbox_store.waiting_by_channel(conn)
