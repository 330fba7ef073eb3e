"""Token buckets (domain.ratelimit) that every hub node shares.

On PostgreSQL, where several nodes may serve one hub, a bucket is a row: each
take is a short transaction of its own that locks only that row (never inside
the writer's group, so it cannot take part in a deadlock), and N nodes together
allow the configured rate, not N times it. On SQLite, which serves one node,
the buckets stay in this process and cost nothing.
"""

from __future__ import annotations

import asyncio
import threading

from ..domain.ratelimit import Bucket, Rate, take
from ..hub import Hub
from ..store import rate_buckets as store

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
        return self._take_here(key)

    def _take_here(self, key: str) -> float:
        with self._lock:
            if len(self._buckets) > MAX_KEPT:
                self._buckets.clear()
            self._buckets[key], wait = take(self._buckets.get(key), self.rate, self.hub.clock.now())
        return wait

    def _take_shared(self, key: str) -> float:
        now = self.hub.clock.now()
        with self.hub.engines.write.begin() as conn:
            bucket = store.lock_bucket(conn, key, self.rate.capacity, now)
            bucket, wait = take(bucket, self.rate, now)
            store.save_bucket(conn, key, bucket)
        return wait
