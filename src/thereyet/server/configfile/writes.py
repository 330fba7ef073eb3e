"""Write one object of each kind into the hub, inside apply's one transaction.

`put` makes the hub's rows say what the canonical object says (creating them
if new); `delete` removes them. Secrets the hub generates (tokens, integration
URLs) are added to `Written.secrets`, to be shown once.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select, update

from ..domain import monitoring as rules
from ..domain.access import Scope
from ..domain.agents import parse_target
from ..domain.monitoring import Limits, ScheduleState
from ..domain.schedules import parse_schedule
from ..integrations.inbound.gitlab import token_hash as gitlab_token_hash
from ..integrations.kinds import KINDS
from ..services.integrations import token_hash as hook_token_hash
from ..services.pings import _hash as ping_key_hash
from ..services.tokens import issue
from ..store import integrations as hook_store
from ..store.tables import (
    channels,
    chat_commands,
    incident_services,
    integrations,
    job_incident_rules,
    job_rooms,
    jobs,
    ping_keys,
    rooms,
    routes,
    runs,
    tokens,
    users,
    web_sessions,
)
from ..store.writer import Tx
from .current import LIMITS
from .oncall_writes import ONCALL_DELETES, ONCALL_PUTS

UNUSABLE_PASSWORD = "!"  # noqa: S105 (never a valid argon2 hash: no sign-in until one is set)


@dataclass
class Written:
    """What apply tells the user once: generated secrets, by object."""

    secrets: list[dict[str, str]] = field(default_factory=list)

    def shown_once(self, kind: str, name: str, **values: str) -> None:
        self.secrets.append({"kind": kind, "name": name, **values})


def _id(tx: Tx, table: Table, name: str, column: str = "name") -> int | None:
    found = tx.conn.execute(select(table.c.id).where(table.c[column] == name)).scalar()
    return None if found is None else int(found)


def _upsert(tx: Tx, table: Table, name: str, values: dict[str, Any]) -> int:
    found = _id(tx, table, name)
    if found is None:
        key = tx.conn.execute(insert(table).values(name=name, created_at=tx.now, **values))
        assert key.inserted_primary_key is not None
        return int(key.inserted_primary_key[0])
    tx.conn.execute(update(table).where(table.c.id == found).values(**values))
    return found


def _delete_named(tx: Tx, table: Table, name: str) -> None:
    tx.conn.execute(delete(table).where(table.c.name == name))


# -- rooms, channels, jobs ----------------------------------------------------------------


def put_room(tx: Tx, name: str, obj: dict[str, Any], out: Written) -> None:
    _upsert(tx, rooms, name, {"title": obj["title"], "topic": obj["topic"]})


def put_channel(tx: Tx, name: str, obj: dict[str, Any], out: Written) -> None:
    channel_id = _upsert(tx, channels, name, {"url": obj["url"]})
    tx.conn.execute(delete(routes).where(routes.c.channel_id == channel_id))
    for route in obj["routes"]:
        tx.conn.execute(insert(routes).values(channel_id=channel_id, created_at=tx.now, **route))
    _put_bridges(tx, channel_id, obj["bridges"])


def _put_bridges(tx: Tx, channel_id: int, room_names: list[str]) -> None:
    """Mirror exactly these rooms to the channel; a bridge kept keeps its place, a new
    one starts after the room's newest message."""
    wanted = {_id(tx, rooms, room) for room in room_names}
    for bridge in hook_store.list_channel_bridges(tx.conn, channel_id):
        if bridge.room_id not in wanted:
            hook_store.delete_bridge(tx.conn, bridge.id)
        wanted.discard(bridge.room_id)
    for room_id in sorted(r for r in wanted if r is not None):
        hook_store.insert_bridge(tx.conn, room_id, channel_id, tx.now)


def delete_channel(tx: Tx, name: str) -> None:
    _delete_named(tx, channels, name)  # routes, outbox rows and bridges go with it


def put_job(tx: Tx, name: str, obj: dict[str, Any], out: Written) -> None:
    row = tx.conn.execute(select(jobs).where(jobs.c.name == name)).first()
    values: dict[str, Any] = {
        k: obj[k] for k in ("title", "description", "runbook_url", "schedule", "timezone")
    }
    values.update({k: obj[k] for k in LIMITS})
    values["target"] = _target(obj["target"])
    if obj["ping_uuid"]:
        values["ping_uuid"] = obj["ping_uuid"]
    elif row is None or row.ping_uuid is None:
        values["ping_uuid"] = str(uuid.uuid4())
    watched = ("schedule", "timezone", "target", *LIMITS)
    if row is None or any(getattr(row, k) != values[k] for k in watched):
        values.update(_watch_from(values, tx.now))
    job_id = _upsert(tx, jobs, name, values)
    tx.conn.execute(delete(job_rooms).where(job_rooms.c.job_id == job_id))
    for room in obj["rooms"]:
        room_id = _id(tx, rooms, room)
        tx.conn.execute(insert(job_rooms).values(job_id=job_id, room_id=room_id))
    tx.conn.execute(delete(job_incident_rules).where(job_incident_rules.c.job == name))
    if obj["paging"]:
        service_id = _id(tx, incident_services, obj["paging"]["service"])
        tx.conn.execute(
            insert(job_incident_rules).values(
                job=name, service_id=service_id, events=obj["paging"]["events"], created_at=tx.now
            )
        )


def _target(target: dict[str, Any] | None) -> dict[str, Any] | None:
    """A job's target as the API stores it (an agent target in its checked form)."""
    if not target:
        return None
    return parse_target(target).as_dict() if target["kind"] == "agent" else dict(target)


def _watch_from(job: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The due and alert times of a job (re)configured at `now` (as the API sets them)."""
    if not job["schedule"]:
        return {"due_at": None, "alert_at": None, "schedule_state": None}
    schedule = parse_schedule(job["schedule"], job["timezone"])
    due = schedule.next_after(now)
    if job["target"]:
        return {"due_at": due, "alert_at": None, "schedule_state": ScheduleState.OK.value}
    limits = Limits(**{k: job[k] for k in LIMITS})
    alert = rules.alert_at(schedule, limits, due, ScheduleState.OK)
    return {"due_at": due, "alert_at": alert, "schedule_state": ScheduleState.OK.value}


def delete_job(tx: Tx, name: str) -> None:
    """Delete a job; one with runs keeps its row and history, without schedule or target."""
    job_id = _id(tx, jobs, name)
    tx.conn.execute(delete(job_incident_rules).where(job_incident_rules.c.job == name))
    if job_id is None:
        return
    if tx.conn.execute(select(runs.c.id).where(runs.c.job_id == job_id).limit(1)).first():
        retired = {"schedule": None, "target": None, "due_at": None, "alert_at": None}
        tx.conn.execute(
            update(jobs).where(jobs.c.id == job_id).values(schedule_state=None, **retired)
        )
        return
    _delete_named(tx, jobs, name)


# -- integrations, commands, users, tokens ----------------------------------------------


def put_integration(tx: Tx, name: str, obj: dict[str, Any], out: Written) -> None:
    """Make the integration say what the files say. Its token stays unless it changes
    between a hook and an alert source (their URLs differ): then a new one is shown."""
    kind = KINDS[obj["kind"]]
    row = tx.conn.execute(select(integrations).where(integrations.c.name == name)).first()
    if row is not None and (row.revoked_at is not None or KINDS[row.kind].target != kind.target):
        _delete_named(tx, integrations, name)
        row = None
    values: dict[str, Any] = {"kind": obj["kind"], "room_id": None, "service_id": None}
    if kind.target == "room":
        values.update(_hook_values(tx, name, obj, row, out))
    else:
        values.update(service_id=_id(tx, incident_services, obj["service"]), secret=None)
    if row is None:
        token = kind.new_token()
        values.update(token_hash=hook_token_hash(token), owner="config", rejected=0)
        tx.conn.execute(insert(integrations).values(name=name, created_at=tx.now, **values))
        out.shown_once("integrations", name, token=token, url=kind.path(token))
    else:
        tx.conn.execute(update(integrations).where(integrations.c.id == row.id).values(**values))


def _hook_values(tx: Tx, name: str, obj: dict[str, Any], row: Any, out: Written) -> dict[str, Any]:
    secret = obj["secret"]
    if secret is None and obj["kind"] in ("github", "gitlab"):
        secret = row.secret if row is not None and row.secret else secrets.token_urlsafe(24)
        if row is None or not (row.secret or row.secret_hash):
            out.shown_once("integrations", name, secret=secret)
    values: dict[str, Any] = {
        "room_id": _id(tx, rooms, obj["room"]),
        "secret": secret if obj["kind"] == "github" else None,
    }
    if obj["kind"] == "gitlab" and secret is not None and not secret.startswith("sha256:"):
        values["secret_hash"] = gitlab_token_hash(secret)
    return values


def delete_integration(tx: Tx, name: str) -> None:
    _delete_named(tx, integrations, name)


def put_command(tx: Tx, name: str, obj: dict[str, Any], out: Written) -> None:
    table = chat_commands
    if tx.conn.execute(select(table.c.name).where(table.c.name == name)).first() is None:
        tx.conn.execute(insert(table).values(name=name, spec=obj, updated_at=tx.now))
    else:
        tx.conn.execute(
            update(table).where(table.c.name == name).values(spec=obj, updated_at=tx.now)
        )


def delete_command(tx: Tx, name: str) -> None:
    tx.conn.execute(delete(chat_commands).where(chat_commands.c.name == name))


def put_user(tx: Tx, name: str, obj: dict[str, Any], out: Written) -> None:
    row = tx.conn.execute(select(users).where(users.c.username == name)).first()
    if row is None:
        tx.conn.execute(
            insert(users).values(
                username=name,
                password_hash=UNUSABLE_PASSWORD,
                role=obj["role"],
                created_at=tx.now,
                disabled_at=tx.now if obj["disabled"] else None,
            )
        )
        return
    values: dict[str, Any] = {"role": obj["role"]}
    if obj["disabled"] != (row.disabled_at is not None):
        values["disabled_at"] = tx.now if obj["disabled"] else None
    if obj["disabled"] or obj["role"] != row.role:
        tx.conn.execute(delete(web_sessions).where(web_sessions.c.user_id == row.id))
    tx.conn.execute(update(users).where(users.c.id == row.id).values(**values))


def delete_user(tx: Tx, name: str) -> None:
    tx.conn.execute(delete(users).where(users.c.username == name))


def _live_tokens(tx: Tx, name: str) -> list[Any]:
    query = select(tokens).where(tokens.c.name == name, tokens.c.revoked_at.is_(None))
    return list(tx.conn.execute(query.order_by(tokens.c.created_at)))


def put_token(tx: Tx, name: str, obj: dict[str, Any], out: Written) -> None:
    found = _live_tokens(tx, name)
    agent = obj.get("agent")
    values = {"scope": obj["scope"], "jobs": obj["jobs"], "rooms": obj["rooms"], "agent": agent}
    if found:
        tx.conn.execute(update(tokens).where(tokens.c.id == found[0].id).values(**values))
        return
    token, _row = issue(
        tx.conn,
        tx.now,
        name=name,
        scope=Scope(obj["scope"]),
        jobs=obj["jobs"],
        rooms=obj["rooms"],
        agent=agent,
    )
    out.shown_once("tokens", name, token=token)


def delete_token(tx: Tx, name: str) -> None:
    for row in _live_tokens(tx, name):
        tx.conn.execute(update(tokens).where(tokens.c.id == row.id).values(revoked_at=tx.now))


def put_ping_key(tx: Tx, name: str, obj: dict[str, Any], out: Written) -> None:
    live = select(ping_keys.c.id).where(ping_keys.c.name == name, ping_keys.c.revoked_at.is_(None))
    if tx.conn.execute(live).first() is not None:
        return
    key = secrets.token_urlsafe(16)
    tx.conn.execute(
        insert(ping_keys).values(
            id=secrets.token_hex(6), name=name, key_hash=ping_key_hash(key), created_at=tx.now
        )
    )
    out.shown_once("ping_keys", name, key=key)


def delete_ping_key(tx: Tx, name: str) -> None:
    tx.conn.execute(
        update(ping_keys)
        .where(ping_keys.c.name == name, ping_keys.c.revoked_at.is_(None))
        .values(revoked_at=tx.now)
    )


def delete_room(tx: Tx, name: str) -> None:
    _delete_named(tx, rooms, name)


PUTS = {
    "rooms": put_room,
    "channels": put_channel,
    **ONCALL_PUTS,
    "jobs": put_job,
    "integrations": put_integration,
    "commands": put_command,
    "users": put_user,
    "tokens": put_token,
    "ping_keys": put_ping_key,
}
DELETES = {
    "rooms": delete_room,
    "channels": delete_channel,
    **ONCALL_DELETES,
    "jobs": delete_job,
    "integrations": delete_integration,
    "commands": delete_command,
    "users": delete_user,
    "tokens": delete_token,
    "ping_keys": delete_ping_key,
}
