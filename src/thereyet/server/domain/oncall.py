"""Who is on call: rotations, overrides and swaps, working hours. Pure; time is passed in.

A rotation hands off at a wall-clock time in its own time zone: a weekly
shift that starts Monday 09:00 in Europe/Paris starts at 09:00 local time
every Monday, whatever the DST offset. Shifts are counted in wall-clock
hours from the start, then placed on the real time line with zoneinfo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_SEGMENTS = 5000


class OncallError(ValueError):
    """A rotation, override or working-hours definition that cannot be used."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def zone(name: str, field: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise OncallError(f"unknown time zone {name!r}", field) from exc


def parse_clock(text: str, field: str) -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise OncallError(f"{field} must be HH:MM", field) from exc


@dataclass(frozen=True)
class Rotation:
    """People taking `shift_hours`-long shifts in turn from `start` (local date) at `handoff`."""

    name: str
    participants: tuple[str, ...]
    timezone: str
    start: date
    handoff: time
    shift_hours: int

    def check(self) -> None:
        zone(self.timezone)
        if not self.participants:
            raise OncallError("a rotation needs at least one participant", "participants")
        if self.shift_hours < 1:
            raise OncallError("shift_hours must be at least 1", "shift_hours")

    def handoff_at(self, index: int) -> datetime:
        """When shift `index` starts, in UTC (0 is the first).

        UTC, because Python compares and subtracts two datetimes of the same zone
        by their wall-clock values, which is wrong across a DST change.
        """
        naive = datetime.combine(self.start, self.handoff) + timedelta(
            hours=self.shift_hours * index
        )
        return naive.replace(tzinfo=zone(self.timezone)).astimezone(UTC)

    def shift_index(self, at: datetime) -> int:
        """The shift in progress at `at` (negative before the start)."""
        local = at.astimezone(zone(self.timezone)).replace(tzinfo=None)
        elapsed = local - datetime.combine(self.start, self.handoff)
        index = int(elapsed // timedelta(hours=self.shift_hours))
        # Wall-clock arithmetic can be an hour off around a DST change: settle on the real line.
        while self.handoff_at(index + 1) <= at:
            index += 1
        while self.handoff_at(index) > at:
            index -= 1
        return index

    def person_of(self, index: int) -> str:
        return self.participants[index % len(self.participants)]


@dataclass(frozen=True)
class Override:
    """`person` covers the rotation from `starts_at` to `ends_at`."""

    person: str
    starts_at: datetime
    ends_at: datetime

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class Segment:
    """`person` is on call from `starts_at` to `ends_at`; `shift` is the rotation's shift."""

    person: str
    starts_at: datetime
    ends_at: datetime
    shift: int
    override: bool = False


def on_call(rotation: Rotation, overrides: Sequence[Override], at: datetime) -> str | None:
    """Who is on call at `at`: the latest override covering it, else the shift's person."""
    for override in sorted(overrides, key=lambda o: o.starts_at, reverse=True):
        if override.covers(at):
            return override.person
    index = rotation.shift_index(at)
    return rotation.person_of(index) if index >= 0 else None


def segments(
    rotation: Rotation, overrides: Sequence[Override], start: datetime, end: datetime
) -> list[Segment]:
    """Who is on call when, between `start` and `end`, overrides cut into the shifts."""
    cuts = {start, end}
    first = max(rotation.shift_index(start), 0)
    index = first
    while (at := rotation.handoff_at(index)) < end and len(cuts) < MAX_SEGMENTS:
        if at > start:
            cuts.add(at)
        index += 1
    for override in overrides:
        for at in (override.starts_at, override.ends_at):
            if start < at < end:
                cuts.add(at)
    found: list[Segment] = []
    points = sorted(cuts)
    for begin, finish in pairwise(points):
        person = on_call(rotation, overrides, begin)
        if person is None:
            continue
        shift = rotation.shift_index(begin)
        covered = any(o.covers(begin) for o in overrides)
        last = found[-1] if found else None
        if last and last.person == person and last.ends_at == begin and last.shift == shift:
            found[-1] = Segment(person, last.starts_at, finish, shift, last.override or covered)
        else:
            found.append(Segment(person, begin, finish, shift, covered))
    return found


@dataclass(frozen=True)
class Handover:
    """Who is on call at a moment, until when, and who takes over then."""

    person: str | None
    until: datetime | None
    next_person: str | None


def handover(found: Sequence[Segment], at: datetime) -> Handover:
    """Read `found` (segments from `at` on, in order) as a handover: the person of the
    segment holding `at`, the end of that person's time on call (consecutive segments
    of the same person are one stretch), and who comes next. Unknown parts are None."""
    current = next((s for s in found if s.starts_at <= at < s.ends_at), None)
    if current is None:
        upcoming = next((s for s in found if s.starts_at > at), None)
        return Handover(None, upcoming.starts_at if upcoming else None, _person(upcoming))
    until: datetime | None = current.ends_at
    for segment in found[found.index(current) + 1 :]:
        if segment.starts_at != until:
            return Handover(current.person, until, None)  # nobody covers the gap
        if segment.person != current.person:
            return Handover(current.person, until, segment.person)
        until = segment.ends_at
    return Handover(current.person, None, None)  # on call past the end of what was looked at


def _person(segment: Segment | None) -> str | None:
    return segment.person if segment else None


def swap(rotation: Rotation, first: datetime, second: datetime) -> tuple[Override, Override]:
    """Two overrides that exchange the shifts in progress at `first` and at `second`."""
    a, b = rotation.shift_index(first), rotation.shift_index(second)
    if a < 0 or b < 0:
        raise OncallError("both shifts must be after the rotation's start", "first")
    if a == b:
        raise OncallError("the two times fall in the same shift", "second")
    return (
        Override(rotation.person_of(b), rotation.handoff_at(a), rotation.handoff_at(a + 1)),
        Override(rotation.person_of(a), rotation.handoff_at(b), rotation.handoff_at(b + 1)),
    )


# -- working hours -----------------------------------------------------------------


@dataclass(frozen=True)
class WorkingHours:
    """A person's working time: these weekdays (0 = Monday), from `begin` to `end`, local."""

    timezone: str
    days: frozenset[int]
    begin: time
    end: time

    def check(self) -> None:
        zone(self.timezone)
        if any(d not in range(7) for d in self.days):
            raise OncallError("working days are 0 (Monday) to 6 (Sunday)", "work_days")
        if self.begin >= self.end:
            raise OncallError("work_start must be before work_end", "work_end")

    def inside(self, at: datetime) -> bool:
        """Whether `at` falls in working hours, in the person's own time zone."""
        local = at.astimezone(zone(self.timezone))
        return local.weekday() in self.days and self.begin <= local.time() < self.end


DEFAULT_WORK_DAYS = frozenset(range(5))


# -- calendar feeds ----------------------------------------------------------------


def _ical_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _ical_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ical(calendar: str, shifts: Sequence[tuple[str, Segment]], now: datetime) -> str:
    """An iCalendar (RFC 5545) feed: one event per (rotation, segment) of on-call time."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//thereyet//on-call//EN",
        f"X-WR-CALNAME:{_ical_text(calendar)}",
    ]
    for rotation, segment in shifts:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{rotation}-{segment.person}-{_ical_time(segment.starts_at)}@thereyet",
            f"DTSTAMP:{_ical_time(now)}",
            f"DTSTART:{_ical_time(segment.starts_at)}",
            f"DTEND:{_ical_time(segment.ends_at)}",
            f"SUMMARY:{_ical_text(f'On call: {segment.person} ({rotation})')}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"
