"""The on-call report: pages per person per month, in and out of hours, and shifts served."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ..domain import reports as rules
from ..domain.oncall import Segment, WorkingHours
from ..hub import Hub
from ..store import incidents as store
from ..store import oncall as oncall_store
from ..store.tables import oncall_people, rotations
from .errors import Invalid
from .oncall import OncallService
from .oncall_rows import hours_of

DEFAULT_TARGET = 10
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def month_range(month: str) -> tuple[datetime, datetime]:
    """A UTC window wide enough to hold `month` in every time zone."""
    if not _MONTH.fullmatch(month):
        raise Invalid("month must be YYYY-MM", field="month")
    first = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    following = (first + timedelta(days=32)).replace(day=1)
    return first - timedelta(days=1), following + timedelta(days=1)


class ReportService:
    def __init__(self, hub: Hub, oncall: OncallService) -> None:
        self.hub = hub
        self.oncall = oncall

    def monthly(self, month: str, target: int = DEFAULT_TARGET) -> list[rules.PersonMonth]:
        start, end = month_range(month)
        with self.hub.engines.read.connect() as conn:
            hours: dict[str, WorkingHours] = {
                row.name: hours_of(row) for row in oncall_store.all_rows(conn, oncall_people)
            }
            pages = [(p.person, p.at) for p in store.pages_between(conn, start, end)]
            served: list[Segment] = []
            for row in oncall_store.all_rows(conn, rotations):
                for segment in self.oncall.segments(conn, row, start, end):
                    tz = hours[segment.person].timezone if segment.person in hours else "UTC"
                    if rules.month_of(segment.starts_at, tz) == month:
                        served.append(segment)
        return rules.monthly(pages, hours, served, month, target)

    def view(self, month: str, target: int = DEFAULT_TARGET) -> dict[str, Any]:
        lines = self.monthly(month, target)
        return {
            "month": month,
            "target": target,
            "people": [
                {
                    "person": line.person,
                    "pages": line.pages,
                    "inside_hours": line.inside_hours,
                    "outside_hours": line.outside_hours,
                    "over_target": line.over_target,
                    "shifts": line.shifts,
                    "hours_on_call": line.hours_on_call,
                }
                for line in lines
            ],
        }

    def csv(self, month: str, target: int = DEFAULT_TARGET) -> str:
        out = io.StringIO()
        csv.writer(out).writerows(rules.csv_rows(self.monthly(month, target)))
        return out.getvalue()
