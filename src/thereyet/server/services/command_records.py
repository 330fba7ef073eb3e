"""Command execution records: the gate and the requester kept with them, and their view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.access import Principal, Scope
from ..domain.commands import Gate
from ..domain.policy import Credential
from .views import iso


def gate_data(gate: Gate | None, who: Principal) -> dict[str, Any]:
    data: dict[str, Any] = {
        "scope": who.scope.value,
        "jobs": sorted(who.jobs),
        "rooms": sorted(who.rooms),
        "principal": who.id,
        "kind": who.kind.value,
        "user_id": who.user_id,
        "token_id": who.token_id,
    }
    if gate is not None:
        data |= {
            "needs_confirmation": gate.needs_confirmation,
            "needs_approval": list(gate.needs_approval),
            "confirmed": gate.confirmed,
            "approved_by": gate.approved_by,
            "approver": gate.approver,
        }
    return data


def gate_of(row: Any) -> Gate:
    data = row.gate
    return Gate(
        code=row.code,
        requested_by=row.requested_by,
        expires_at=row.expires_at,
        needs_confirmation=bool(data.get("needs_confirmation")),
        needs_approval=tuple(data.get("needs_approval", ())),
        confirmed=bool(data.get("confirmed")),
        approved_by=data.get("approved_by"),
        requester=data.get("principal") or "",
        approver=data.get("approver"),
    )


def principal_of(row: Any) -> Principal:
    """The requester, with the permissions they had when they typed the command."""
    data = row.gate
    kind = data.get("kind")
    return Principal(
        name=row.requested_by,
        scope=Scope(data.get("scope", "read")),
        jobs=frozenset(data.get("jobs", ())),
        rooms=frozenset(data.get("rooms", ())),
        credential=Credential(kind) if kind else None,
        user_id=data.get("user_id"),
        token_id=data.get("token_id"),
    )


def record_view(row: Any, now: datetime) -> dict[str, Any]:
    status = row.status
    if status == "waiting" and row.expires_at is not None and row.expires_at <= now:
        status = "expired"
    return {
        "id": row.id,
        "room": row.room,
        "command": row.command,
        "text": row.text,
        "args": row.args,
        "requested_by": row.requested_by,
        "approved_by": row.gate.get("approved_by"),
        "status": status,
        "output": row.output,
        "exit_code": row.exit_code,
        "error": row.error,
        "created_at": iso(row.created_at),
        "started_at": iso(row.started_at),
        "finished_at": iso(row.finished_at),
    }
