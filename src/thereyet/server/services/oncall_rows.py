"""On-call rows read back as domain values, and what the on-call services share.

Both the on-call service (people, rotations) and the escalation service
(policies, incident services) find definitions by name and turn a domain
rule's error into `Invalid` in the same way; incidents and reports read the
same rows back as rotations, working hours and policies.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from ..domain import oncall as rules
from ..domain.incidents import EscalationError, Policy, Step, Target
from ..domain.oncall import OncallError, Override, Rotation, WorkingHours
from ..store import oncall as store
from .errors import Invalid, NotFound

# -- finding rows by name, reporting broken rules ------------------------------------------


def invalid(exc: OncallError | EscalationError) -> Invalid:
    return Invalid(str(exc), field=exc.field)


def row_named(conn: Connection, table: Any, name: str, what: str) -> Any:
    """The row of `table` called `name`; NotFound (on the field `what`) if there is none."""
    row = store.by_name(conn, table, name)
    if row is None:
        raise NotFound(f"no {what} named {name!r}", field=what)
    return row


# -- turning rows into domain values ---------------------------------------------------


def rotation_of(row: Any) -> Rotation:
    return Rotation(
        name=row.name,
        participants=tuple(row.participants),
        timezone=row.timezone,
        start=date.fromisoformat(row.start_date),
        handoff=rules.parse_clock(row.handoff, "handoff"),
        shift_hours=row.shift_hours,
    )


def overrides_of(conn: Connection, rotation_id: int) -> list[Override]:
    return [
        Override(o.person, o.starts_at, o.ends_at) for o in store.overrides_of(conn, rotation_id)
    ]


def hours_of(row: Any) -> WorkingHours:
    return WorkingHours(
        timezone=row.timezone,
        days=frozenset(row.work_days),
        begin=rules.parse_clock(row.work_start, "work_start"),
        end=rules.parse_clock(row.work_end, "work_end"),
    )


def policy_of(row: Any) -> Policy:
    steps = tuple(
        Step(
            targets=tuple(Target(t["kind"], t["name"]) for t in step["targets"]),
            delay_minutes=int(step["delay_minutes"]),
        )
        for step in row.steps
    )
    return Policy(row.name, steps, int(row.repeat))
