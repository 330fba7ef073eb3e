"""Incidents and escalation: the rules, with time passed in.

An escalation policy is an ordered list of steps; each step names targets
(a rotation, a person, a channel) and how many minutes to wait for an
acknowledgement before the next step is paged. After the last step the
policy starts over, `repeat` more times. A position counts steps across
rounds: position p is step p % len(steps) of round p // len(steps).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class IncidentStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


SEVERITIES = ("critical", "error", "warning", "info")
TARGET_KINDS = ("rotation", "person", "channel")
JOB_EVENTS = ("failed", "missed", "stalled", "overdue", "lost")
MAX_STEPS = 20
MAX_REPEAT = 10


class EscalationError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Target:
    kind: str  # rotation | person | channel
    name: str


@dataclass(frozen=True)
class Step:
    targets: tuple[Target, ...]
    delay_minutes: int  # wait this long for an acknowledgement before the next step


@dataclass(frozen=True)
class Policy:
    name: str
    steps: tuple[Step, ...]
    repeat: int = 0

    def check(self) -> None:
        if not self.steps:
            raise EscalationError("a policy needs at least one step", "steps")
        if len(self.steps) > MAX_STEPS:
            raise EscalationError(f"at most {MAX_STEPS} steps", "steps")
        if not 0 <= self.repeat <= MAX_REPEAT:
            raise EscalationError(f"repeat must be 0 to {MAX_REPEAT}", "repeat")
        for i, step in enumerate(self.steps):
            if not step.targets:
                raise EscalationError("a step needs at least one target", f"steps.{i}.targets")
            if step.delay_minutes < 1:
                raise EscalationError(
                    "delay_minutes must be at least 1", f"steps.{i}.delay_minutes"
                )
            for j, target in enumerate(step.targets):
                if target.kind not in TARGET_KINDS:
                    raise EscalationError(
                        f"target kind must be one of {', '.join(TARGET_KINDS)}",
                        f"steps.{i}.targets.{j}.kind",
                    )

    @property
    def positions(self) -> int:
        return len(self.steps) * (self.repeat + 1)

    def step_at(self, position: int) -> Step:
        return self.steps[position % len(self.steps)]

    def starts_at(self, position: int, triggered_at: datetime) -> datetime:
        """When `position` is paged if nobody acknowledges (position 0 at the trigger)."""
        minutes = sum(self.step_at(p).delay_minutes for p in range(position))
        return triggered_at + timedelta(minutes=minutes)


@dataclass(frozen=True)
class EscalationCalc:
    """What the escalator should do now: page these positions, look again at `next_at`."""

    page: tuple[int, ...]
    next_at: datetime | None


def calc(
    policy: Policy,
    status: IncidentStatus,
    triggered_at: datetime,
    paged_through: int,
    now: datetime,
) -> EscalationCalc:
    """The positions due at `now` after `paged_through` (-1: none yet), and the next look.

    Only a triggered incident escalates: an acknowledgement stops it, a
    resolution ends it.
    """
    if status is not IncidentStatus.TRIGGERED:
        return EscalationCalc((), None)
    due: list[int] = []
    position = paged_through + 1
    while position < policy.positions and policy.starts_at(position, triggered_at) <= now:
        due.append(position)
        position += 1
    next_at = policy.starts_at(position, triggered_at) if position < policy.positions else None
    return EscalationCalc(tuple(due), next_at)


def transition(status: IncidentStatus, action: str) -> IncidentStatus | None:
    """The status after `action` (acknowledge/resolve), or None when it changes nothing."""
    if status is IncidentStatus.RESOLVED:
        return None
    if action == "acknowledge":
        return IncidentStatus.ACKNOWLEDGED if status is IncidentStatus.TRIGGERED else None
    if action == "resolve":
        return IncidentStatus.RESOLVED
    raise ValueError(action)


# -- what is said ------------------------------------------------------------------


def incident_card(
    number: int,
    status: IncidentStatus,
    summary: str,
    *,
    service: str,
    runbook_url: str | None,
    who: str | None = None,
) -> str:
    """A room card (markdown) for an incident's change of status."""
    verb = {
        IncidentStatus.TRIGGERED: "triggered",
        IncidentStatus.ACKNOWLEDGED: f"acknowledged by {who}" if who else "acknowledged",
        IncidentStatus.RESOLVED: f"resolved by {who}" if who else "resolved",
    }[status]
    runbook = f"[runbook]({runbook_url})" if runbook_url else "**no runbook**"
    return f"**Incident #{number} {verb}** · {service} · {summary} · {runbook}"


def page_text(
    number: int,
    summary: str,
    *,
    service: str,
    severity: str,
    runbook_url: str | None,
    links: Sequence[tuple[str, str]],
) -> tuple[str, str]:
    """The title and body of a page; `links` are (label, url) pairs such as Acknowledge."""
    title = f"[{severity}] #{number} {summary}"[:300]
    lines = [summary, f"service: {service}", f"severity: {severity}"]
    lines.append(f"runbook: {runbook_url}" if runbook_url else "runbook: none (flagged)")
    lines.extend(f"{label}: {url}" for label, url in links)
    return title, "\n".join(lines)


def notice_text(
    number: int,
    summary: str,
    status: IncidentStatus,
    *,
    service: str,
    who: str,
    link: str,
) -> tuple[str, str]:
    """The title and body of the notice sent to those paged when an incident moves on."""
    title = f"#{number} {status.value} by {who}: {summary}"[:300]
    return title, f"{summary}\nservice: {service}\n{status.value} by {who}\n{link}"


# -- signed one-click links ----------------------------------------------------------


def link_signature(secret: bytes, incident_id: int, action: str, person: str, expires: int) -> str:
    message = f"{incident_id}:{action}:{person}:{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def link_is_valid(
    secret: bytes,
    incident_id: int,
    action: str,
    person: str,
    expires: int,
    signature: str,
    now: datetime,
) -> bool:
    """Whether a one-click link is genuine and not yet expired (compared in constant time)."""
    expected = link_signature(secret, incident_id, action, person, expires)
    return hmac.compare_digest(expected, signature) and now.timestamp() < expires


# -- Alertmanager's two senders ------------------------------------------------------------


def alertmanager_group_key_hash(group_key: str) -> str:
    """The dedup_key Alertmanager's PagerDuty sender uses for a group: SHA-256 of its key."""
    return hashlib.sha256(group_key.encode()).hexdigest()


def same_alertmanager_group(
    origin: str, dedup_key: str | None, group_key: str | None, other: object
) -> bool:
    """Whether a trigger and an open incident are one Alertmanager group told twice,
    once through its webhook and once through its PagerDuty sender.

    `other` has origin, dedup_key and group_key, as an incident row has."""
    theirs = getattr(other, "origin", None)
    if origin == "pagerduty" and theirs == "alertmanager":
        their_group = getattr(other, "group_key", None)
        if not isinstance(their_group, str) or not their_group:
            return False
        return alertmanager_group_key_hash(their_group) == dedup_key
    if origin == "alertmanager" and theirs == "pagerduty" and group_key:
        return getattr(other, "dedup_key", None) == alertmanager_group_key_hash(group_key)
    return False
