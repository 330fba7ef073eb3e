"""Rate limits on inbound alerts: one token bucket per incident integration.

The buckets live in this hub process and read the hub's clock. With several
hub nodes behind a load balancer each node keeps its own buckets, so an
integration may send up to the limit to each node.
"""

from __future__ import annotations

import threading

from ..domain.ratelimit import Bucket, Rate, retry_after, take
from ..hub import Hub
from .errors import TooManyAttempts


class AlertLimiter:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.rate = Rate(hub.settings.alert_rate_per_minute, hub.settings.alert_burst)
        self._buckets: dict[int, Bucket] = {}
        self._lock = threading.Lock()

    def admit(self, integration_id: int, name: str) -> None:
        """Spend one of this integration's tokens; raise TooManyAttempts (429) when none is left.

        Call it before anything is written, so a refused request leaves nothing behind.
        """
        now = self.hub.clock.now()
        with self._lock:
            bucket, wait = take(self._buckets.get(integration_id), self.rate, now)
            self._buckets[integration_id] = bucket
        if wait:
            raise TooManyAttempts(
                f"integration {name!r} sent more than {self.rate.per_minute} alerts a minute "
                f"(burst {self.rate.burst}); retry later",
                retry_after=retry_after(wait),
            )
