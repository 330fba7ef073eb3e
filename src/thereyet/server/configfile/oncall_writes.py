"""Write people, rotations, escalation policies and services (see writes.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from ..store.tables import (
    channels,
    contact_methods,
    escalation_policies,
    incident_services,
    oncall_people,
    rotation_overrides,
    rotations,
)
from ..store.writer import Tx


def _row(tx: Tx, table: Any, name: str) -> Any:
    return tx.conn.execute(select(table).where(table.c.name == name)).first()


def _upsert(tx: Tx, table: Any, name: str, values: dict[str, Any]) -> int:
    row = _row(tx, table, name)
    if row is None:
        key = tx.conn.execute(insert(table).values(name=name, created_at=tx.now, **values))
        assert key.inserted_primary_key is not None
        return int(key.inserted_primary_key[0])
    tx.conn.execute(update(table).where(table.c.id == row.id).values(**values))
    return int(row.id)


def put_person(tx: Tx, name: str, obj: dict[str, Any], out: Any) -> None:
    values = {k: obj[k] for k in ("timezone", "work_days", "work_start", "work_end", "rules")}
    person_id = _upsert(tx, oncall_people, name, values)
    # Each contact method is delivered through a channel of its own, "@person/method".
    query = select(contact_methods.c.id, contact_methods.c.name, channels.c.id.label("channel"))
    query = query.join(channels, channels.c.id == contact_methods.c.channel_id)
    have = {
        m.name: m for m in tx.conn.execute(query.where(contact_methods.c.person_id == person_id))
    }
    for method, row in have.items():
        if method not in obj["contact_methods"]:
            tx.conn.execute(delete(channels).where(channels.c.id == row.channel))
    for method, url in obj["contact_methods"].items():
        if method in have:
            channel_id = have[method].channel
            tx.conn.execute(update(channels).where(channels.c.id == channel_id).values(url=url))
            continue
        channel = f"@{name}/{method}"
        tx.conn.execute(delete(channels).where(channels.c.name == channel))
        key = tx.conn.execute(insert(channels).values(name=channel, url=url, created_at=tx.now))
        assert key.inserted_primary_key is not None
        tx.conn.execute(
            insert(contact_methods).values(
                person_id=person_id,
                name=method,
                channel_id=key.inserted_primary_key[0],
                created_at=tx.now,
            )
        )


def delete_person(tx: Tx, name: str) -> None:
    tx.conn.execute(delete(channels).where(channels.c.name.startswith(f"@{name}/")))
    tx.conn.execute(delete(oncall_people).where(oncall_people.c.name == name))


def put_rotation(tx: Tx, name: str, obj: dict[str, Any], out: Any) -> None:
    values = {
        k: obj[k] for k in ("timezone", "start_date", "handoff", "shift_hours", "participants")
    }
    rotation_id = _upsert(tx, rotations, name, values)
    tx.conn.execute(
        delete(rotation_overrides).where(rotation_overrides.c.rotation_id == rotation_id)
    )
    for o in obj["overrides"]:
        tx.conn.execute(
            insert(rotation_overrides).values(
                rotation_id=rotation_id,
                person=o["person"],
                starts_at=_time(o["starts_at"]),
                ends_at=_time(o["ends_at"]),
                note=o["note"],
                created_at=tx.now,
            )
        )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def put_policy(tx: Tx, name: str, obj: dict[str, Any], out: Any) -> None:
    _upsert(tx, escalation_policies, name, {"steps": obj["steps"], "repeat": obj["repeat"]})


def put_service(tx: Tx, name: str, obj: dict[str, Any], out: Any) -> None:
    policy = _row(tx, escalation_policies, obj["policy"]) if obj["policy"] else None
    values = {
        "room": obj["room"],
        "policy_id": policy.id if policy is not None else None,
        "runbook_url": obj["runbook_url"],
        "require_runbook": int(obj["require_runbook"]),
    }
    _upsert(tx, incident_services, name, values)


def _deleter(table: Any) -> Any:
    def delete_named(tx: Tx, name: str) -> None:
        tx.conn.execute(delete(table).where(table.c.name == name))

    return delete_named


ONCALL_PUTS = {
    "people": put_person,
    "rotations": put_rotation,
    "escalation_policies": put_policy,
    "services": put_service,
}
ONCALL_DELETES = {
    "people": delete_person,
    "rotations": _deleter(rotations),
    "escalation_policies": _deleter(escalation_policies),
    "services": _deleter(incident_services),
}
