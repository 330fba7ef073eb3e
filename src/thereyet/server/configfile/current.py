"""What the hub holds now, in the files' canonical form (what export writes).

Each reader takes a connection and returns {name: object}. Secret fields hold
the secret itself here; export swaps them for references before writing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from ..domain.access import RUN_TOKEN_PREFIX
from ..integrations.inbound.gitlab import token_hash as gitlab_token_hash
from ..store.tables import (
    channels,
    chat_commands,
    contact_methods,
    escalation_policies,
    incident_services,
    integrations,
    job_incident_rules,
    job_rooms,
    jobs,
    oncall_people,
    ping_keys,
    room_bridges,
    rooms,
    rotation_overrides,
    rotations,
    routes,
    tokens,
    users,
)
from .canonical import canonical, utc_text

Objects = dict[str, dict[str, Any]]
LIMITS = ("grace", "start_deadline", "max_duration", "stall_after", "lost_after")
GITLAB_HASH = "sha256:"  # a GitLab token is kept hashed: the hub shows only this marker


def _rooms(conn: Connection) -> Objects:
    return {r.name: {"title": r.title, "topic": r.topic} for r in conn.execute(select(rooms))}


def _jobs(conn: Connection) -> Objects:
    room_names = {r.id: r.name for r in conn.execute(select(rooms.c.id, rooms.c.name))}
    by_job: dict[int, list[str]] = defaultdict(list)
    for link in conn.execute(select(job_rooms)):
        by_job[link.job_id].append(room_names[link.room_id])
    services = {r.id: r.name for r in conn.execute(select(incident_services))}
    paging = {
        r.job: {"service": services[r.service_id], "events": list(r.events)}
        for r in conn.execute(select(job_incident_rules))
    }
    found = {}
    for row in conn.execute(select(jobs)):
        target = None
        if row.target and row.target["kind"] == "agent":
            target = dict(row.target)
        elif row.target:
            target = {"kind": "http", "url": row.target["url"], "headers": row.target["headers"]}
        found[row.name] = {
            "title": row.title,
            "description": row.description,
            "runbook_url": row.runbook_url,
            "schedule": row.schedule,
            "timezone": row.timezone,
            **{k: getattr(row, k) for k in LIMITS},
            "rooms": by_job[row.id],
            "target": target,
            "paging": paging.get(row.name),
            "ping_uuid": row.ping_uuid,
        }
    return found


def _channels(conn: Connection) -> Objects:
    by_channel: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in conn.execute(select(routes)):
        by_channel[r.channel_id].append({"job": r.job, "room": r.room, "events": list(r.events)})
    bridged: dict[int, list[str]] = defaultdict(list)
    query = select(room_bridges.c.channel_id, rooms.c.name).join(
        rooms, rooms.c.id == room_bridges.c.room_id
    )
    for b in conn.execute(query):
        bridged[b.channel_id].append(b.name)
    return {
        c.name: {"url": c.url, "routes": by_channel[c.id], "bridges": bridged[c.id]}
        for c in conn.execute(select(channels))
        if not c.name.startswith("@")  # a person's contact method: written with the person
    }


def _people(conn: Connection) -> Objects:
    methods: dict[int, dict[str, str]] = defaultdict(dict)
    query = select(contact_methods.c.person_id, contact_methods.c.name, channels.c.url).join(
        channels, channels.c.id == contact_methods.c.channel_id
    )
    for m in conn.execute(query):
        methods[m.person_id][m.name] = m.url
    return {
        p.name: {
            "timezone": p.timezone,
            "work_days": list(p.work_days),
            "work_start": p.work_start,
            "work_end": p.work_end,
            "contact_methods": dict(sorted(methods[p.id].items())),
            "rules": [
                {"method": r["method"], "after_minutes": r["after_minutes"]} for r in p.rules
            ],
        }
        for p in conn.execute(select(oncall_people))
    }


def _rotations(conn: Connection) -> Objects:
    overrides: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for o in conn.execute(select(rotation_overrides)):
        overrides[o.rotation_id].append(
            {
                "person": o.person,
                "starts_at": utc_text(o.starts_at),
                "ends_at": utc_text(o.ends_at),
                "note": o.note,
            }
        )
    return {
        r.name: {
            "timezone": r.timezone,
            "start_date": r.start_date,
            "handoff": r.handoff,
            "shift_hours": r.shift_hours,
            "participants": list(r.participants),
            "overrides": overrides[r.id],
        }
        for r in conn.execute(select(rotations))
    }


def _policies(conn: Connection) -> Objects:
    return {
        p.name: {
            "steps": [
                {
                    "targets": [{"kind": t["kind"], "name": t["name"]} for t in s["targets"]],
                    "delay_minutes": s["delay_minutes"],
                }
                for s in p.steps
            ],
            "repeat": p.repeat,
        }
        for p in conn.execute(select(escalation_policies))
    }


def _services(conn: Connection) -> Objects:
    policies = {p.id: p.name for p in conn.execute(select(escalation_policies))}
    return {
        s.name: {
            "room": s.room,
            "policy": policies.get(s.policy_id),
            "runbook_url": s.runbook_url,
            "require_runbook": bool(s.require_runbook),
        }
        for s in conn.execute(select(incident_services))
    }


def _integrations(conn: Connection) -> Objects:
    room_names = {r.id: r.name for r in conn.execute(select(rooms.c.id, rooms.c.name))}
    services = {s.id: s.name for s in conn.execute(select(incident_services))}
    found: Objects = {}
    for i in conn.execute(select(integrations).where(integrations.c.revoked_at.is_(None))):
        secret = i.secret or (GITLAB_HASH + i.secret_hash if i.secret_hash else None)
        found[i.name] = {
            "kind": i.kind,
            "room": room_names.get(i.room_id),
            "service": services.get(i.service_id),
            "secret": secret,
        }
    return found


def gitlab_marker(secret: str) -> str:
    """How a GitLab token given in the files compares with the hash the hub keeps."""
    return GITLAB_HASH + gitlab_token_hash(secret)


def _commands(conn: Connection) -> Objects:
    return {c.name: dict(c.spec) for c in conn.execute(select(chat_commands))}


def _users(conn: Connection) -> Objects:
    return {
        u.username: {"role": u.role, "disabled": u.disabled_at is not None}
        for u in conn.execute(select(users))
    }


def _tokens(conn: Connection) -> Objects:
    found: Objects = {}
    query = select(tokens).where(tokens.c.revoked_at.is_(None)).order_by(tokens.c.created_at)
    for t in conn.execute(query):
        if t.scope in ("admin", "read", "ingest", "agent") and not t.name.startswith(
            RUN_TOKEN_PREFIX
        ):
            # Names are not unique for tokens: the oldest one of a name stands for it.
            found.setdefault(
                t.name, {"scope": t.scope, "jobs": t.jobs, "rooms": t.rooms, "agent": t.agent}
            )
    return found


def _ping_keys(conn: Connection) -> Objects:
    query = select(ping_keys.c.name).where(ping_keys.c.revoked_at.is_(None))
    return {row.name: {} for row in conn.execute(query.order_by(ping_keys.c.created_at))}


READERS: dict[str, Callable[[Connection], Objects]] = {
    "rooms": _rooms,
    "channels": _channels,
    "people": _people,
    "rotations": _rotations,
    "escalation_policies": _policies,
    "services": _services,
    "jobs": _jobs,
    "integrations": _integrations,
    "commands": _commands,
    "users": _users,
    "tokens": _tokens,
    "ping_keys": _ping_keys,
}


def read_current(conn: Connection) -> dict[str, Objects]:
    """Every configured object in the hub, kind by kind, in canonical form."""
    return {
        kind: {name: canonical(kind, name, obj) for name, obj in reader(conn).items()}
        for kind, reader in READERS.items()
    }
