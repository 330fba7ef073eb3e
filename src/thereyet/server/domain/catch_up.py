"""Which occurrences of a routine to start now: none is dropped before it is due.

Every occurrence due by the horizon (now plus a short look-ahead, so a run is
ready and its call queued for the due time itself) is started, in order. An
occurrence due while some hub node was running is only late (a slow tick, a
node that took over from one that died): it is started, however late. When the
oldest one due is older than the running nodes (by more than LATE_TICK_SECONDS,
the time a hub takes to start), no hub was running then, and the job's catch-up
policy decides what happens to the occurrences due by now:

- ``latest`` (the default): start only the most recent of them;
- ``all``: start the most recent `limit` of them (10 unless set), oldest first;
- ``none``: start none of them; the next occurrence starts as usual.

Missed occurrences not started are reported as skipped, never silently lost.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from .schedules import Schedule

POLICIES = ("none", "latest", "all")
DEFAULT_POLICY = "latest"
DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
LATE_TICK_SECONDS = 10.0
# Past this many missed occurrences the count jumps to the last day (a lower bound).
_MAX_SCAN = 100_000


class CatchUpError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CatchUp:
    policy: str = DEFAULT_POLICY
    limit: int = DEFAULT_LIMIT

    def check(self) -> None:
        if self.policy not in POLICIES:
            raise CatchUpError(f"catch_up must be one of {', '.join(POLICIES)}", "catch_up")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise CatchUpError(f"catch_up_limit must be 1 to {MAX_LIMIT}", "catch_up_limit")

    @property
    def keeps(self) -> int:
        """How many of the missed occurrences are started."""
        return {"none": 0, "latest": 1, "all": self.limit}[self.policy]


@dataclass(frozen=True)
class Plan:
    start: tuple[datetime, ...]  # oldest first
    skipped: int  # missed occurrences not started
    first_skipped: datetime | None
    last_skipped: datetime | None
    next_due: datetime  # the first occurrence neither started nor skipped


def plan(
    schedule: Schedule,
    due_at: datetime,
    now: datetime,
    horizon: datetime,
    catch_up: CatchUp,
    max_start: int,
    up_since: datetime | None = None,
) -> Plan:
    """What to start now for a job whose next unstarted occurrence is `due_at`.

    `up_since` is when the hub nodes running now started (the oldest of them);
    None when none is known to be running (then: now)."""
    gap = due_at < (up_since or now) - timedelta(seconds=LATE_TICK_SECONDS)
    # With a gap only the last ones are kept (and one more, to name the last skipped).
    kept: deque[datetime] = deque(maxlen=catch_up.keeps + 1 if gap else None)
    count, at = 0, due_at
    while at <= now:
        kept.append(at)
        count += 1
        at = schedule.next_after(at)
        if count == _MAX_SCAN:  # down for very long: count on from the last day only
            at = max(at, schedule.next_after(now - timedelta(days=1)))
    keeps = len(kept) if not gap else catch_up.keeps
    start = list(kept)[len(kept) - keeps :]
    skipped = count - len(start)
    last_skipped = _last_skipped(kept, start, skipped)
    while at <= horizon and len(start) <= max_start:
        start.append(at)
        at = schedule.next_after(at)
    if len(start) > max_start:
        at = start[max_start]
        start = start[:max_start]
    return Plan(tuple(start), skipped, due_at if skipped else None, last_skipped, at)


def _last_skipped(kept: deque[datetime], start: list[datetime], skipped: int) -> datetime | None:
    if not skipped:
        return None
    if start:
        # The occurrence just before the first one started (kept holds the last ones).
        earlier = [at for at in kept if at < start[0]]
        return earlier[-1] if earlier else None
    return kept[-1]
