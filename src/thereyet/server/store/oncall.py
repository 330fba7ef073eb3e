"""On-call people, contact methods, rotations, overrides, policies, services, integrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update

from .tables import (
    channels,
    contact_methods,
    escalation_policies,
    incident_services,
    job_incident_rules,
    oncall_people,
    rotation_overrides,
    rotations,
    settings,
)


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def insert_row(conn: Connection, table: Table, **values: Any) -> int:
    return _new_id(conn.execute(insert(table).values(**values)))


def by_name(conn: Connection, table: Table, name: str) -> Any:
    return conn.execute(select(table).where(table.c.name == name)).first()


def by_id(conn: Connection, table: Table, row_id: int) -> Any:
    return conn.execute(select(table).where(table.c.id == row_id)).first()


def all_rows(conn: Connection, table: Table) -> list[Any]:
    return list(conn.execute(select(table).order_by(table.c.name)))


def update_row(conn: Connection, table: Table, row_id: int, **values: Any) -> None:
    conn.execute(update(table).where(table.c.id == row_id).values(**values))


def delete_row(conn: Connection, table: Table, row_id: int) -> bool:
    return conn.execute(delete(table).where(table.c.id == row_id)).rowcount == 1


# -- people --------------------------------------------------------------------------


def contact_methods_of(conn: Connection, person_id: int) -> list[Any]:
    query = (
        select(contact_methods, channels.c.url, channels.c.name.label("channel"))
        .join(channels, channels.c.id == contact_methods.c.channel_id)
        .where(contact_methods.c.person_id == person_id)
        .order_by(contact_methods.c.name)
    )
    return list(conn.execute(query))


def contact_method(conn: Connection, person_id: int, name: str) -> Any:
    query = select(contact_methods).where(
        contact_methods.c.person_id == person_id, contact_methods.c.name == name
    )
    return conn.execute(query).first()


def delete_contact_method(conn: Connection, method: Any) -> None:
    conn.execute(delete(contact_methods).where(contact_methods.c.id == method.id))
    conn.execute(delete(channels).where(channels.c.id == method.channel_id))


# -- rotations -------------------------------------------------------------------------


def overrides_of(
    conn: Connection, rotation_id: int, start: datetime | None = None, end: datetime | None = None
) -> list[Any]:
    query = select(rotation_overrides).where(rotation_overrides.c.rotation_id == rotation_id)
    if start is not None:
        query = query.where(rotation_overrides.c.ends_at > start)
    if end is not None:
        query = query.where(rotation_overrides.c.starts_at < end)
    return list(conn.execute(query.order_by(rotation_overrides.c.starts_at)))


def delete_override(conn: Connection, rotation_id: int, override_id: int) -> bool:
    result = conn.execute(
        delete(rotation_overrides).where(
            rotation_overrides.c.id == override_id,
            rotation_overrides.c.rotation_id == rotation_id,
        )
    )
    return result.rowcount == 1


# -- services, integrations, job rules -----------------------------------------------


def job_rule(conn: Connection, job: str) -> Any:
    query = (
        select(job_incident_rules, incident_services.c.name.label("service"))
        .join(incident_services, incident_services.c.id == job_incident_rules.c.service_id)
        .where(job_incident_rules.c.job == job)
    )
    return conn.execute(query).first()


def jobs_with_rules(conn: Connection, names: list[str]) -> set[str]:
    """Which of these jobs have an incident rule (one statement for a group)."""
    if not names:
        return set()
    query = select(job_incident_rules.c.job).where(job_incident_rules.c.job.in_(names))
    return set(conn.execute(query).scalars())


def job_rules(conn: Connection) -> list[Any]:
    query = select(job_incident_rules, incident_services.c.name.label("service")).join(
        incident_services, incident_services.c.id == job_incident_rules.c.service_id
    )
    return list(conn.execute(query.order_by(job_incident_rules.c.job)))


def put_job_rule(
    conn: Connection, job: str, service_id: int, events: list[str], now: datetime
) -> None:
    conn.execute(delete(job_incident_rules).where(job_incident_rules.c.job == job))
    insert_row(
        conn, job_incident_rules, job=job, service_id=service_id, events=events, created_at=now
    )


# -- hub settings ----------------------------------------------------------------------


def setting(conn: Connection, key: str) -> Any:
    return conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()


def add_setting_once(conn: Connection, key: str, value: Any) -> Any:
    """Store `value` under `key` unless one is there; return the stored value."""
    found = setting(conn, key)
    if found is None:
        conn.execute(insert(settings).values(key=key, value=value))
        return value
    return found


__all__ = [
    "escalation_policies",
    "incident_services",
    "oncall_people",
    "rotation_overrides",
    "rotations",
]
