"""How urgent a notification looks where it lands: Apprise's notification types.

Slack, Discord, ntfy, Teams and the rest colour or tag a message by its type, so a
page must not arrive looking like the news that a run started.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class NotifyType(StrEnum):
    """Apprise's four types, by their Apprise names."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


_BY_EVENT = {
    "failed": NotifyType.FAILURE,
    "missed": NotifyType.FAILURE,
    "lost": NotifyType.FAILURE,
    "overdue": NotifyType.FAILURE,
    "late": NotifyType.WARNING,
    "stalled": NotifyType.WARNING,
    "cancelled": NotifyType.WARNING,
    "succeeded": NotifyType.SUCCESS,
    "recovered": NotifyType.SUCCESS,
    "started": NotifyType.INFO,
    "message": NotifyType.INFO,
}
_BY_INCIDENT_NOTICE = {
    None: NotifyType.FAILURE,  # a page
    "triggered": NotifyType.FAILURE,
    "acknowledged": NotifyType.WARNING,
    "resolved": NotifyType.SUCCESS,
}


def notify_type(event: str, payload: dict[str, Any] | None = None) -> NotifyType:
    """The type of an outbox row's notification, from its event (and, for an
    incident, whether it is a page or a notice of acknowledgement or resolution)."""
    if event == "incident":
        notice = (payload or {}).get("notice")
        return _BY_INCIDENT_NOTICE.get(notice, NotifyType.INFO)
    return _BY_EVENT.get(event, NotifyType.INFO)
