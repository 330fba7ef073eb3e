"""The one form of an object that plan compares and export writes.

Files may leave out defaults, list things in any order or give a title that is
the name's own; the hub's rows store them in their own way. Both sides pass
through `canonical`, so the same configuration always compares equal and is
always written the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..domain.names import title_from_name

_RUN_EVENTS = ("started", "succeeded", "failed", "late", "missed", "stalled", "overdue", "lost")


def canonical(kind: str, name: str, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` (a model's JSON dump) with defaults filled in and lists in a fixed order."""
    obj = dict(obj)
    if kind in ("rooms", "jobs") and not obj.get("title"):
        obj["title"] = title_from_name(name)
    if kind == "jobs":
        obj["rooms"] = sorted(set(obj["rooms"]))
        if obj.get("target") and obj["target"].get("kind") == "agent":
            obj["target"] = {**obj["target"], "tags": sorted(set(obj["target"]["tags"]))}
        if obj.get("paging"):
            obj["paging"] = {**obj["paging"], "events": sorted(set(obj["paging"]["events"]))}
    elif kind == "channels":
        obj["bridges"] = sorted(set(obj.get("bridges", [])))
        routes = [
            {**r, "events": sorted(set(r["events"]), key=_RUN_EVENTS.index)} for r in obj["routes"]
        ]
        obj["routes"] = sorted(routes, key=lambda r: (r["job"] or "", r["room"] or "", r["events"]))
    elif kind == "people":
        obj["work_days"] = sorted(set(obj["work_days"]))
    elif kind == "rotations":
        overrides = [
            {**o, "starts_at": utc_text(o["starts_at"]), "ends_at": utc_text(o["ends_at"])}
            for o in obj["overrides"]
        ]
        obj["overrides"] = sorted(overrides, key=lambda o: (o["starts_at"], o["ends_at"]))
    elif kind == "integrations":
        obj.pop("format", None)  # read as kind (see model.Integration)
    elif kind == "tokens":
        obj["jobs"], obj["rooms"] = sorted(set(obj["jobs"])), sorted(set(obj["rooms"]))
    return obj


def utc_text(value: datetime | str) -> str:
    """A time as the files and the hub both write it: UTC, to the second, with Z."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
