"""What the JSON API answers: incidents, on-call, channels, integrations, commands, config.

Documentation only (see web/answers.py), like web/api/answers.py.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from .answers import Time

IncidentState = Literal["triggered", "acknowledged", "resolved"]


class IncidentOut(BaseModel):
    id: int
    service: str
    status: IncidentState
    dedup_key: str
    summary: str
    source: str
    severity: Literal["critical", "error", "warning", "info"]
    origin: str
    group_key: str | None
    job: str | None
    run_id: str | None
    details: dict[str, Any]
    links: list[dict[str, Any]]
    images: list[dict[str, Any]]
    runbook_url: str | None
    runbook_missing: bool
    triggered_at: Time
    acknowledged_at: Time | None
    acknowledged_by: str | None
    resolved_at: Time | None
    resolved_by: str | None
    next_escalation_at: Time | None


class TimelineEntry(BaseModel):
    at: Time
    kind: str
    actor: str | None
    data: dict[str, Any]


class PageOut(BaseModel):
    position: int
    person: str | None
    channel: str | None
    at: Time
    out_of_hours: bool


class IncidentDetailOut(IncidentOut):
    timeline: list[TimelineEntry]
    pages: list[PageOut]


class OpenedIncidentOut(IncidentDetailOut):
    created: bool = Field(description="false when the dedup key matched an open incident")


class IncidentListOut(BaseModel):
    incidents: list[IncidentOut]


class AlertTriggeredOut(BaseModel):
    key: str
    incident: int


class AlertActedOut(BaseModel):
    key: str
    changed: bool


class AlertmanagerOut(BaseModel):
    incidents: list[int] = Field(description="the incidents the firing alerts opened or hit")
    resolved: int


class ContactOut(BaseModel):
    name: str
    url: str = Field(description="a hint of the URL, never its secrets")


class RuleOut(BaseModel):
    method: str
    after_minutes: int


class PersonOut(BaseModel):
    name: str
    timezone: str
    work_days: list[int]
    work_start: str
    work_end: str
    contact_methods: list[ContactOut]
    rules: list[RuleOut]


class PersonListOut(BaseModel):
    people: list[PersonOut]


class RotationOut(BaseModel):
    name: str
    timezone: str
    start_date: str
    handoff: str
    shift_hours: int
    participants: list[str]
    on_call: str | None


class RotationListOut(BaseModel):
    rotations: list[RotationOut]


class ShiftOut(BaseModel):
    person: str
    starts_at: Time
    ends_at: Time
    override: bool


class OverrideOut(BaseModel):
    id: int
    person: str
    starts_at: Time
    ends_at: Time


class RotationOverrideOut(OverrideOut):
    note: str


class NewOverrideOut(RotationOverrideOut):
    rotation: str


class RotationDetailOut(RotationOut):
    upcoming: list[ShiftOut]
    overrides: list[RotationOverrideOut]


class SwapOut(BaseModel):
    overrides: list[OverrideOut]


class TargetOut(BaseModel):
    kind: Literal["rotation", "person", "channel"]
    name: str


class StepOut(BaseModel):
    targets: list[TargetOut]
    delay_minutes: int


class PolicyOut(BaseModel):
    name: str
    steps: list[StepOut]
    repeat: int


class PolicyListOut(BaseModel):
    policies: list[PolicyOut]


class ServiceOut(BaseModel):
    name: str
    room: str | None
    policy: str | None
    runbook_url: str | None
    require_runbook: bool


class ServiceListOut(BaseModel):
    services: list[ServiceOut]


class AlertSourceOut(BaseModel):
    name: str
    service: str
    kind: Literal["pagerduty", "alertmanager", "generic"]


class NewAlertSourceOut(AlertSourceOut):
    token: str = Field(description="shown this once")
    endpoint: str


class AlertSourceItem(AlertSourceOut):
    created_at: Time
    revoked: bool


class AlertSourceListOut(BaseModel):
    integrations: list[AlertSourceItem]


class JobRuleOut(BaseModel):
    job: str
    service: str
    events: list[str]


class JobRuleListOut(BaseModel):
    jobs: list[JobRuleOut]


class PublicUrlOut(BaseModel):
    public_url: str


class FeedUrlOut(BaseModel):
    url: str


class ReportLine(BaseModel):
    person: str
    pages: int
    inside_hours: int
    outside_hours: int
    over_target: bool
    shifts: int
    hours_on_call: float


class OncallReportOut(BaseModel):
    month: str
    target: int
    people: list[ReportLine]


class ChannelOut(BaseModel):
    name: str
    kind: Literal["channel", "contact"]
    person: str | None
    method: str | None
    url: str = Field(description="a hint of the URL, never its secrets")
    created_at: Time
    disabled: bool
    pending: int
    sent: int
    failed: int
    last_sent_at: Time | None
    last_error: str | None


class ChannelListOut(BaseModel):
    channels: list[ChannelOut]


class RouteOut(BaseModel):
    id: int
    channel: str
    job: str | None
    room: str | None
    events: list[str]


class RouteListOut(BaseModel):
    routes: list[RouteOut]


class DeliveryOut(BaseModel):
    id: int
    kind: Literal["notify", "callback"]
    channel: str | None
    event: str | None
    job: str | None
    run_id: str | None
    title: str | None
    status: Literal["pending", "sent", "failed"]
    attempts: int
    next_attempt_at: Time | None
    last_error: str | None
    created_at: Time
    sent_at: Time | None


class DeliveryListOut(BaseModel):
    deliveries: list[DeliveryOut]


class HookDeliveryOut(BaseModel):
    """One delivery an integration received: when, what it was answered, and why not."""

    at: Time
    status: int
    ok: bool
    error: str | None
    summary: str


class HookOut(BaseModel):
    name: str
    kind: str
    format: str = Field(description="deprecated: the former name of kind")
    room: str | None = Field(description="where a hook posts (hooks)")
    service: str | None = Field(description="the service it pages (alert sources)")
    url: str = Field(description="the URL to paste, its token hidden")
    owner: str | None
    has_secret: bool
    rejected: int
    last_error: str | None
    last_error_at: Time | None
    created_at: Time
    revoked: bool
    deliveries: list[HookDeliveryOut]


class NewHookOut(HookOut):
    url: str = Field(description="where the sender posts (its token in it, shown once)")
    path: str
    token: str
    secret: str | None = Field(description="the signing secret or token, shown once")
    example: str = Field(description="the sender's configuration, ready to paste")


class ChannelTestOut(BaseModel):
    """A test message queued to a channel: its delivery, to follow in /deliveries."""

    id: int
    channel: str
    status: str


class HookReceivedOut(BaseModel):
    """A delivery taken: whether it posted to the room, and whether it was a repeat."""

    ok: bool
    posted: int
    duplicate: bool


class HookListOut(BaseModel):
    integrations: list[HookOut]


class BridgeOut(BaseModel):
    id: int
    room: str
    channel: str


class BridgeItem(BridgeOut):
    last_message_id: int | None


class BridgeListOut(BaseModel):
    bridges: list[BridgeItem]


class CommandOut(BaseModel):
    name: str
    usage: str
    description: str
    examples: list[str]
    side_effects: bool
    confirm: bool
    approval: dict[str, list[str]]
    action: str


class CommandListOut(BaseModel):
    commands: list[CommandOut]
    config_error: str | None


class CommandRunOut(BaseModel):
    id: int
    room: str
    command: str
    text: str
    args: dict[str, Any]
    requested_by: str
    approved_by: str | None
    status: str
    output: str
    exit_code: int | None
    error: str | None
    created_at: Time
    started_at: Time | None
    finished_at: Time | None


class CommandRunListOut(BaseModel):
    runs: list[CommandRunOut]


class ChangeOut(BaseModel):
    action: Literal["create", "update", "delete", "manage", "orphan"]
    kind: str
    name: str
    file: str
    drift: bool
    fields: list[dict[str, Any]]


class PlanOut(BaseModel):
    changes: list[ChangeOut]
    problems: list[dict[str, Any]]
    has_changes: bool
    unmanaged: int


class AppliedOut(PlanOut):
    secrets: list[dict[str, str]] = Field(description="the secrets the hub made (shown once)")


class ExportOut(BaseModel):
    files: dict[str, str]
    secret_refs: list[str]


class ConfigSchemaOut(BaseModel):
    """The JSON Schema (draft 2020-12) of a configuration file."""
