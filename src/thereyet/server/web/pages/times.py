"""Times as people read them on the pages: in a zone, relative to now, working days.

Times a person types into a form are wall-clock times in the rotation's (or the
person's) own zone; stored times are UTC and shown in that zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request

from .render import TEMPLATES

EN_DASH = "\u2013"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def zone_or_utc(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_zone(value: str | datetime | None, timezone: str, fmt: str = "%a %-d %b %H:%M") -> str:
    """A stored time as a wall clock in `timezone` ("Mon 2 Mar 09:00")."""
    if not value:
        return ""
    at = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return at.astimezone(zone_or_utc(timezone)).strftime(fmt)


def relative(value: str | None, now: datetime) -> str:
    """How far `value` is from `now`, in words a glance reads ("in 3 d 4 h", "5 min ago")."""
    if not value:
        return ""
    seconds = (datetime.fromisoformat(value.replace("Z", "+00:00")) - now).total_seconds()
    minutes = int(abs(seconds) // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        amount = f"{days} d {hours} h" if hours else f"{days} d"
    elif hours:
        amount = f"{hours} h {mins} min" if mins else f"{hours} h"
    else:
        amount = f"{mins} min"
    return f"in {amount}" if seconds >= 0 else f"{amount} ago"


def work_days_text(days: list[int]) -> str:
    """Working days as a person says them: "Mon-Fri" (an en dash), "Mon-Wed, Sat", "no days"."""
    runs: list[list[int]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        f"{WEEKDAYS[r[0]]}{EN_DASH}{WEEKDAYS[r[-1]]}"
        if len(r) > 2
        else ", ".join(WEEKDAYS[d] for d in r)
        for r in runs
    ]
    return ", ".join(parts) or "no days"


def now_of(request: Request) -> datetime:
    """The hub's clock, in UTC."""
    now: datetime = request.app.state.hub.clock.now()
    return now.astimezone(UTC)


TEMPLATES.env.filters["in_zone"] = in_zone
TEMPLATES.env.filters["work_days"] = work_days_text
