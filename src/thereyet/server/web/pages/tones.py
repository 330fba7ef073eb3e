"""The colour a status reads in: one word per meaning, shared by every page and badge.

`bad` (failed, lost, triggered, critical, refused, revoked...), `warn` (late,
stalled, overdue, acknowledged, warning, waiting), `ok` (succeeded, resolved, done,
active), `run` (running), and `idle` for the rest (queued, new, cancelled...). The stylesheet gives each tone a text and background pair with at least
4.5:1 contrast in light and dark.
"""

from __future__ import annotations

TONES: dict[str, str] = {
    "failed": "bad",
    "lost": "bad",
    "triggered": "bad",
    "critical": "bad",
    "error": "bad",
    "missed": "bad",
    "refused": "bad",
    "expired": "bad",
    "disabled": "bad",
    "revoked": "bad",
    "late": "warn",
    "stalled": "warn",
    "overdue": "warn",
    "acknowledged": "warn",
    "warning": "warn",
    "pending": "warn",
    "waiting": "warn",
    "succeeded": "ok",
    "resolved": "ok",
    "sent": "ok",
    "ok": "ok",
    "done": "ok",
    "active": "ok",
    "running": "run",
}
_RANK = ("bad", "warn", "run", "ok", "idle")


def tone(state: object) -> str:
    """The tone of a status, or of "running stalled" (the most urgent word wins)."""
    words = str(state or "").split()
    found = [TONES.get(w.lower(), "idle") for w in words] or ["idle"]
    return min(found, key=_RANK.index)
