"""Job schedules: cron lines read in the job's time zone, or fixed intervals.

A cron schedule has the usual five fields and is evaluated in local time of
its zone, the way cron itself does across DST changes: a time skipped when
clocks go forward fires at the first minute that exists after it, and a
fixed time that happens twice when clocks go back fires once (a schedule
with a wildcard hour, such as "*/30 * * * *", fires in both passes).

An interval schedule ("every 10m", "every 90s", "every 1h30m") fires at
multiples of its period counted from the Unix epoch, so every hub node
computes the same instants without sharing any state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
MIN_INTERVAL = 1.0
MAX_INTERVAL = 366 * 86400.0


class ScheduleError(ValueError):
    """A schedule, zone or duration that cannot be understood; the message says why."""


@dataclass(frozen=True)
class Cron:
    expr: str
    zone: ZoneInfo

    def next_after(self, after: datetime) -> datetime:
        """The first instant strictly after `after` (aware) when the line fires, in UTC."""
        local = after.astimezone(self.zone).replace(microsecond=0)
        return next(iter(CronSim(self.expr, local))).astimezone(UTC)

    @property
    def text(self) -> str:
        return self.expr


@dataclass(frozen=True)
class Interval:
    seconds: float

    def next_after(self, after: datetime) -> datetime:
        elapsed = (after - _EPOCH).total_seconds()
        periods = int(elapsed // self.seconds) + 1
        return _EPOCH + timedelta(seconds=periods * self.seconds)

    @property
    def text(self) -> str:
        return "every " + format_duration_spec(self.seconds)


Schedule = Cron | Interval


def parse_zone(name: str | None) -> ZoneInfo:
    """The IANA zone called `name` (None or "" means UTC)."""
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)"
        ) from exc


def parse_schedule(text: str, zone: str | None = None) -> Schedule:
    """Read "every <duration>" or a five-field cron line (evaluated in `zone`)."""
    text = " ".join(text.split())
    if text.lower().startswith("every "):
        seconds = parse_duration(text[6:])
        if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
            raise ScheduleError("an interval must be between 1s and 366d")
        return Interval(seconds)
    fields = text.split(" ")
    if len(fields) != 5:
        raise ScheduleError("a schedule is 'every <duration>' or a cron line of five fields")
    cron = Cron(text, parse_zone(zone))
    try:
        cron.next_after(datetime(2000, 1, 1, tzinfo=UTC))
    except (CronSimError, StopIteration) as exc:
        raise ScheduleError(f"not a valid cron line: {exc or 'it never fires'}") from exc
    return cron


def parse_duration(text: str) -> float:
    """Seconds in "90", "90s", "10m", "1h30m", "2d" or "1w"."""
    text = text.strip().lower().replace(" ", "")
    if text.isdigit():
        return float(text)
    match = _DURATION.match(text)
    if not text or match is None:
        raise ScheduleError(f"not a duration: {text!r} (say 30s, 10m, 1h30m or 2d)")
    return float(
        sum(
            int(v) * u
            for v, u in zip(match.groups(), (604800, 86400, 3600, 60, 1), strict=True)
            if v
        )
    )


def format_duration_spec(seconds: float) -> str:
    """The shortest spec that parse_duration reads back: 5400 -> "1h30m"."""
    whole = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def occurrences(schedule: Schedule, after: datetime, until: datetime) -> list[datetime]:
    """Every instant in (after, until] when the schedule fires, oldest first."""
    found: list[datetime] = []
    at = schedule.next_after(after)
    while at <= until:
        found.append(at)
        at = schedule.next_after(at)
    return found
