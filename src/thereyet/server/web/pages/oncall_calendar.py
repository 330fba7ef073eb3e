"""A rotation's shifts laid out as a calendar: weeks of days, in the rotation's own zone.

Each day lists who is on call during it; a shift that starts or ends that day
shows the hour, and an override is marked. Weeks start on Monday.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from .times import zone_or_utc


@dataclass(frozen=True)
class Entry:
    person: str
    starts: str  # "09:00" when the stretch starts this day, else ""
    ends: str  # "09:00" when it ends this day, else ""
    override: bool
    colour: int  # the person's place among the rotation's people, for a steady colour


@dataclass
class Day:
    day: date
    today: bool
    past: bool
    entries: list[Entry] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.day.strftime("%a %-d %b")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def calendar(
    shifts: list[dict[str, Any]], people: list[str], timezone: str, now: datetime, weeks: int
) -> list[list[Day]]:
    """`weeks` weeks of days from the Monday of `now`'s week (local), with their shifts."""
    tz = zone_or_utc(timezone)
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    parsed = [(s, _parse(s["starts_at"]), _parse(s["ends_at"])) for s in shifts]
    found: list[list[Day]] = []
    for week in range(weeks):
        days = []
        for offset in range(7):
            day = monday + timedelta(days=7 * week + offset)
            start = datetime.combine(day, time(0), tz)
            end = datetime.combine(day + timedelta(days=1), time(0), tz)
            entries = [
                Entry(
                    person=s["person"],
                    starts=begin.astimezone(tz).strftime("%H:%M") if begin > start else "",
                    ends=finish.astimezone(tz).strftime("%H:%M") if finish < end else "",
                    override=bool(s["override"]),
                    colour=_colour(s["person"], people),
                )
                for s, begin, finish in parsed
                if begin < end and finish > start
            ]
            days.append(Day(day, day == today, day < today, entries))
        found.append(days)
    return found


def _colour(person: str, people: list[str]) -> int:
    return people.index(person) % 6 if person in people else 6
