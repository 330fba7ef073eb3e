"""A token bucket: at most `burst` requests at once, refilled at `per_minute`.

Pure: the bucket is a value and the time is passed in, so the rule is tested
with hand-picked times and the hub's fake clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Bucket:
    tokens: float
    at: datetime


@dataclass(frozen=True)
class Rate:
    per_minute: int
    burst: int

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    @property
    def capacity(self) -> float:
        return float(max(self.burst, 1))


def take(bucket: Bucket | None, rate: Rate, now: datetime) -> tuple[Bucket, float]:
    """Spend one token at `now`.

    Return the bucket afterwards and 0.0 when the request may go on, or the
    bucket as refilled so far and the seconds to wait before one token is back.
    A new bucket starts full; a clock that steps back refills nothing. With a
    rate of 0 per minute nothing is limited.
    """
    if not rate.enabled:
        return Bucket(rate.capacity, now), 0.0
    if bucket is None:
        tokens = rate.capacity
    else:
        elapsed = max((now - bucket.at).total_seconds(), 0.0)
        tokens = min(rate.capacity, bucket.tokens + elapsed * rate.per_minute / 60)
    if tokens >= 1:
        return Bucket(tokens - 1, now), 0.0
    return Bucket(tokens, now), (1 - tokens) * 60 / rate.per_minute


def retry_after(wait: float) -> int:
    """Whole seconds for a Retry-After header: never 0 when the caller must wait."""
    return max(math.ceil(wait - 1e-9), 1)
