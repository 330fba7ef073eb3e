"""The monthly on-call report: pages per person, in and out of their hours, and shifts served."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from .oncall import Segment, WorkingHours, zone


@dataclass(frozen=True)
class PersonMonth:
    person: str
    month: str  # YYYY-MM, in the person's own time zone
    pages: int
    inside_hours: int
    outside_hours: int
    target: int  # the most out-of-hours pages a month that is acceptable
    shifts: int
    hours_on_call: float

    @property
    def over_target(self) -> bool:
        return self.outside_hours > self.target


def month_of(at: datetime, timezone: str) -> str:
    return at.astimezone(zone(timezone)).strftime("%Y-%m")


def monthly(
    pages: Iterable[tuple[str, datetime]],
    hours: Mapping[str, WorkingHours],
    served: Sequence[Segment],
    month: str,
    target: int,
) -> list[PersonMonth]:
    """One line per person for `month`: pages split by that person's working hours, shifts."""
    counts: dict[str, list[int]] = {}
    for person, at in pages:
        work = hours.get(person)
        tz = work.timezone if work else "UTC"
        if month_of(at, tz) != month:
            continue
        inside = bool(work and work.inside(at))
        entry = counts.setdefault(person, [0, 0])
        entry[0 if inside else 1] += 1
    shifts: dict[str, set[tuple[str, int]]] = {}
    on_call: dict[str, float] = {}
    for segment in served:
        shifts.setdefault(segment.person, set()).add((segment.starts_at.isoformat(), segment.shift))
        seconds = (segment.ends_at - segment.starts_at).total_seconds()
        on_call[segment.person] = on_call.get(segment.person, 0.0) + seconds / 3600
    people = sorted(set(counts) | set(shifts) | set(hours))
    return [
        PersonMonth(
            person=person,
            month=month,
            pages=sum(counts.get(person, [0, 0])),
            inside_hours=counts.get(person, [0, 0])[0],
            outside_hours=counts.get(person, [0, 0])[1],
            target=target,
            shifts=len(shifts.get(person, ())),
            hours_on_call=round(on_call.get(person, 0.0), 2),
        )
        for person in people
    ]


CSV_COLUMNS = (
    "month",
    "person",
    "pages",
    "inside_hours",
    "outside_hours",
    "target",
    "over_target",
    "shifts",
    "hours_on_call",
)


def csv_rows(lines: Sequence[PersonMonth]) -> list[list[str]]:
    rows = [list(CSV_COLUMNS)]
    for line in lines:
        rows.append(
            [
                line.month,
                line.person,
                str(line.pages),
                str(line.inside_hours),
                str(line.outside_hours),
                str(line.target),
                "yes" if line.over_target else "no",
                str(line.shifts),
                f"{line.hours_on_call:g}",
            ]
        )
    return rows
