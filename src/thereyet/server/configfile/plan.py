"""What applying the files would change, object by object and field by field.

Objects are matched by kind and name. An object in the files and not in the
hub is created; one whose fields differ is updated; one the files owned before
and no longer name is deleted with --prune, and only listed without it. Objects
made through the API and never named by the files are left alone. A managed
object changed in the hub since it was applied shows as drift.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .current import gitlab_marker
from .load import Desired
from .model import KINDS
from .problems import Problem
from .secrets import secret_paths


def digest(obj: Any) -> str:
    """A fingerprint of an object's canonical form (drift is a change of it)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any
    secret: bool = False

    def as_dict(self) -> dict[str, Any]:
        if self.secret:
            return {"field": self.field, "secret": True}
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass
class Change:
    """One object's change. action: create | update | delete | manage | orphan."""

    action: str
    kind: str
    name: str
    file: str = ""
    fields: list[FieldChange] = field(default_factory=list)
    drift: bool = False

    @property
    def changes_hub(self) -> bool:
        return self.action != "orphan"

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": self.kind,
            "name": self.name,
            "file": self.file,
            "drift": self.drift,
            "fields": [f.as_dict() for f in self.fields],
        }


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unmanaged: int = 0  # objects in the hub the files do not name (left alone)

    @property
    def has_changes(self) -> bool:
        return any(c.changes_hub for c in self.changes)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": [c.as_dict() for c in self.changes],
            "problems": [p.as_dict() for p in self.problems],
            "has_changes": self.has_changes,
            "unmanaged": self.unmanaged,
        }


def _secret_fields(kind: str, obj: dict[str, Any]) -> set[str]:
    return {path[0] for path in secret_paths(kind, obj)}


def _comparable(kind: str, want: dict[str, Any], have: dict[str, Any] | None) -> dict[str, Any]:
    """`want` as the hub would store it: a GitLab token is kept hashed, and an integration
    secret (or a job's ping UUID) the files leave out keeps the one the hub made."""
    if kind == "jobs" and want["ping_uuid"] is None and have is not None:
        return {**want, "ping_uuid": have["ping_uuid"]}  # left out: the hub's is kept
    if kind != "integrations":
        return want
    if want["secret"] is None and have is not None and want["kind"] == have["kind"]:
        return {**want, "secret": have["secret"]}
    if want["kind"] == "gitlab" and want["secret"] is not None:
        return {**want, "secret": gitlab_marker(want["secret"])}
    return want


def field_changes(kind: str, have: dict[str, Any], want: dict[str, Any]) -> list[FieldChange]:
    secret = _secret_fields(kind, have) | _secret_fields(kind, want)
    return [
        FieldChange(key, have.get(key), want.get(key), key in secret)
        for key in sorted(set(have) | set(want))
        if have.get(key) != want.get(key)
    ]


def compute(
    desired: Desired,
    current: dict[str, dict[str, dict[str, Any]]],
    managed: dict[tuple[str, str], tuple[str, str]],
    hub_now: dict[str, Any],
    *,
    prune: bool,
) -> Plan:
    """The plan; `managed` maps (kind, name) to (owning file, digest as applied)."""
    plan = Plan()
    if desired.hub is not None and desired.hub != hub_now:
        changes = field_changes("hub", hub_now, desired.hub)
        plan.changes.append(Change("update", "hub", "settings", "", changes))
    for kind in KINDS:
        wanted, held = desired.objects[kind], current[kind]
        for name, want in sorted(wanted.items()):
            have = held.get(name)
            file = desired.owners[(kind, name)]
            owner = managed.get((kind, name))
            want = _comparable(kind, want, have)
            if have is None:
                plan.changes.append(
                    Change("create", kind, name, file, field_changes(kind, {}, want))
                )
                continue
            drift = owner is not None and owner[1] != digest(have)
            if have != want:
                changes = field_changes(kind, have, want)
                plan.changes.append(Change("update", kind, name, file, changes, drift))
            elif owner is None or owner[0] != file or drift:
                plan.changes.append(Change("manage", kind, name, file, [], drift))
        for name in sorted(set(held) - set(wanted)):
            owner = managed.get((kind, name))
            if owner is None:
                plan.unmanaged += 1
            else:
                action = "delete" if prune else "orphan"
                plan.changes.append(Change(action, kind, name, owner[0]))
    return plan
