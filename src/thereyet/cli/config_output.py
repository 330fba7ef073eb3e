"""A plan, as `thereyet plan` and `thereyet apply` print it (secrets never shown)."""

from __future__ import annotations

import json
from typing import Any

SIGNS = {"create": "+", "update": "~", "delete": "-", "manage": "=", "orphan": "?"}
LABELS = {
    "manage": "becomes managed by the files",
    "orphan": "no longer in the files; --prune deletes it",
}


def _fields(change: dict[str, Any]) -> list[str]:
    lines = []
    for f in change["fields"]:
        if f.get("secret"):
            lines.append(
                f"    {f['field']}: (secret {'set' if change['action'] == 'create' else 'changed'})"
            )
        elif change["action"] == "create" and f["new"] in (None, "", [], {}):
            continue
        elif change["action"] == "create":
            lines.append(f"    {f['field']} = {json.dumps(f['new'])}")
        else:
            lines.append(f"    {f['field']}: {json.dumps(f['old'])} -> {json.dumps(f['new'])}")
    return lines


def describe(plan: dict[str, Any]) -> str:
    lines = []
    for change in plan["changes"]:
        where = f"  ({change['file']})" if change["file"] else ""
        drift = "  [drift: changed in the hub since the last apply]" if change["drift"] else ""
        label = LABELS.get(change["action"], change["action"])
        sign = SIGNS[change["action"]]
        lines.append(f"{sign} {change['kind']}.{change['name']}: {label}{where}{drift}")
        lines += _fields(change)
    for p in plan["problems"]:
        where = f"{p['file']}:{p['line']}" if p.get("line") else p["file"]
        level = "error" if p["level"] == "error" else "warning"
        lines.append(f"{where}: {level}: {p['field']}: {p['reason']}")
    counts = {a: sum(c["action"] == a for c in plan["changes"]) for a in SIGNS}
    summary = (
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete, {counts['manage']} to mark managed"
    )
    if plan.get("unmanaged"):
        summary += f"; {plan['unmanaged']} made outside the files left alone"
    lines.append(summary + ".")
    return "\n".join(lines)
