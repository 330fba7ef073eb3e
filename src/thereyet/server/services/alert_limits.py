"""Rate limits on inbound alerts: one token bucket per incident integration.

The buckets read the hub's clock and are shared by every hub node on
PostgreSQL (services/rate_buckets.py): N nodes behind a load balancer together
allow an integration the configured rate.
"""

from __future__ import annotations

from ..domain.ratelimit import Rate, retry_after
from ..hub import Hub
from .errors import TooManyAttempts
from .rate_buckets import SharedBuckets


class AlertLimiter:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.rate = Rate(hub.settings.alert_rate_per_minute, hub.settings.alert_burst)
        self.buckets = SharedBuckets(hub, self.rate)

    async def admit(self, integration_id: int, name: str) -> None:
        """Spend one of this integration's tokens; raise TooManyAttempts (429) when none is left.

        Call it before anything is written, so a refused request leaves nothing behind.
        """
        wait = await self.buckets.take(f"alerts:{integration_id}")
        if wait:
            raise TooManyAttempts(
                f"integration {name!r} sent more than {self.rate.per_minute} alerts a minute "
                f"(burst {self.rate.burst}); retry later",
                retry_after=retry_after(wait),
            )
