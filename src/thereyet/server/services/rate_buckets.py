"""Token buckets (domain.ratelimit) that every hub node shares.

On PostgreSQL, where several nodes may serve one hub, a bucket is a row, and
N nodes together allow the configured rate, not N times it. A take on its own
(`take`) is a short transaction of its own that locks only its rows; takes made
inside a writer's change (`take_in`: a group of pings) are two statements for
the whole group, in its transaction, so what was refused or spent commits or
rolls back with what the requests wrote. On SQLite, which serves one node, the
buckets stay in this process and cost nothing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime

from ..domain.ratelimit import Bucket, Rate, take
from ..hub import Hub
from ..store import rate_buckets as store
from ..store.writer import Tx

MAX_KEPT = 100_000  # in-process buckets: forget idle keys rather than grow without bound


class SharedBuckets:
    def __init__(self, hub: Hub, rate: Rate) -> None:
        self.hub = hub
        self.rate = rate
        self.shared = hub.engines.dialect == "postgresql"
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    async def take(self, key: str) -> float:
        """Spend one token of `key`'s bucket: 0.0 when allowed, else the seconds to wait."""
        if not self.rate.enabled:
            return 0.0
        if self.shared:
            return await asyncio.to_thread(self._take_shared, key)
        return self._take_here([key], self.hub.clock.now())[0]

    @property
    def locked_in_database(self) -> bool:
        """Whether a take locks rows of the database (shared buckets, a limit set)."""
        return self.shared and self.rate.enabled

    def take_in(
        self, tx: Tx, keys: Sequence[str], held: Mapping[str, Bucket] | None = None
    ) -> list[float]:
        """Spend one token for each of `keys`, in order (a key may come more than once),
        within the writer's change `tx`: for each, 0.0 when allowed, else the seconds
        to wait. `held`: buckets this change has already locked (store.pings.
        jobs_and_buckets); the others of `keys` are locked here."""
        if not self.rate.enabled or not keys:
            return [0.0] * len(keys)
        if not self.shared:
            return self._take_here(keys, tx.now)
        mine = dict(held or {})
        # A key missing from `held` (a check whose open run ended between the group's two
        # reads) is locked after the others, out of key order: a deadlock it may meet
        # with another node is told by PostgreSQL, and the writer makes the group again.
        missing = sorted(set(keys) - mine.keys())
        if missing:
            mine.update(store.lock_buckets(tx.conn, missing, self.rate.capacity, tx.now))
        waits = self._take_from(mine, keys, tx.now)
        store.save_buckets(tx.conn, mine)
        return waits

    def _take_here(self, keys: Sequence[str], now: datetime) -> list[float]:
        with self._lock:
            if len(self._buckets) > MAX_KEPT:
                self._buckets.clear()
            return self._take_from(self._buckets, keys, now)

    def _take_from(
        self, held: dict[str, Bucket], keys: Sequence[str], now: datetime
    ) -> list[float]:
        waits = []
        for key in keys:
            bucket, wait = take(held.get(key), self.rate, now)
            held[key] = bucket
            waits.append(wait)
        return waits

    def _take_shared(self, key: str) -> float:
        now = self.hub.clock.now()
        with self.hub.engines.write.begin() as conn:
            held = store.lock_buckets(conn, [key], self.rate.capacity, now)
            [wait] = self._take_from(held, [key], now)
            store.save_buckets(conn, held)
        return wait
