"""What the JSON API answers: runs, rooms, jobs, schedules, tokens, users, shares, the hub.

Documentation only (see web/answers.py): the services build these answers as
dicts (services/views.py and each service's view functions); these models say
which fields every such answer has and of what type. Times are ISO 8601 in UTC
("2026-03-02T09:00:00Z").
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

RunState = Literal["queued", "running", "succeeded", "failed", "cancelled", "lost"]
Time = str  # ISO 8601, UTC ("Z")


class ProgressOut(BaseModel):
    done: float | None
    total: float | None
    unit: str | None
    percent: float | None = Field(description="done of total, 0-100, when both are known")


class EtaOut(BaseModel):
    """How long until the run is done: seconds within a range, and why."""

    seconds: float | None
    low: float | None
    high: float | None
    basis: str = Field(description="what the estimate rests on ('none' when there is none)")
    reason: str | None = Field(description="why there is no estimate, when there is none")
    text: str
    finish_at: Time | None


class EtaPredictionOut(BaseModel):
    """What the ETA said when the run reached `fraction` of its total, and how right."""

    fraction: float
    elapsed: float
    seconds: float | None
    low: float | None
    high: float | None
    actual: float | None
    error: float | None
    held: bool | None


class AttachmentOut(BaseModel):
    id: str
    name: str
    content_type: str
    size: int
    sha256: str
    run_id: str | None
    created_at: Time
    url: str


class RunSummaryOut(BaseModel):
    """A run without its log tail, stats and files (what a list of runs shows)."""

    id: str
    job: str
    status: RunState
    rooms: list[str]
    host: str | None
    pid: int | None
    user: str | None
    trigger: str | None
    node: str | None
    created_at: Time
    started_at: Time | None
    finished_at: Time | None
    heartbeat_at: Time | None
    progress_at: Time | None
    elapsed: float | None
    progress: ProgressOut
    rate: float | None
    eta: EtaOut
    eta_predictions: list[EtaPredictionOut]


class RunOut(RunSummaryOut):
    stats: dict[str, float | str]
    log_tail: list[str]
    exit_code: int | None
    error: str | None
    attachments: list[AttachmentOut] | None = Field(None, description="only when one run is read")


class RunListOut(BaseModel):
    runs: list[RunSummaryOut | RunOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class ReportOut(BaseModel):
    """A batch of events taken: how many were new, how many repeats of ones already kept."""

    accepted: int
    duplicates: int
    status: RunState


class EventOut(BaseModel):
    """One entry of a run's event log; the other fields depend on its type."""

    seq: int
    id: str
    type: str
    ts: Time


class EventListOut(BaseModel):
    events: list[EventOut]
    next_after: int = Field(description="pass as ?after= for the events after these")


class RoomOut(BaseModel):
    name: str
    title: str
    topic: str
    created_at: Time


class RoomListItem(RoomOut):
    last_message_id: int | None


class RoomListOut(BaseModel):
    rooms: list[RoomListItem]


class MessageOut(BaseModel):
    id: int
    room: str
    created_at: Time
    author: str
    kind: str = Field(description="text, note, run, attachment, command, alert...")
    text: str
    data: dict[str, Any]


class MessageListOut(BaseModel):
    messages: list[MessageOut]
    prev_cursor: int | None = Field(description="pass as ?before= for older messages")
    next_after: int | None = Field(description="pass as ?after= for newer messages")


class SearchHit(MessageOut):
    snippet: str


class SearchOut(BaseModel):
    results: list[SearchHit]


class JobOut(BaseModel):
    name: str
    title: str
    description: str
    runbook_url: str | None
    room_cards: Literal["all", "changes"] | None
    rooms: list[str]
    created_at: Time
    run_count: int
    last_run_at: Time | None
    ping_url: str | None = Field(None, description="only to those who may use it")


class JobListOut(BaseModel):
    jobs: list[JobOut]


class EtaAccuracyOut(BaseModel):
    runs: int
    error: float | None
    by_checkpoint: dict[str, float]
    held: float | None
    recent: list[dict[str, Any]]


class JobDetailOut(JobOut):
    typical_duration: float | None
    recent_durations: list[float]
    eta_accuracy: EtaAccuracyOut


class LimitsOut(BaseModel):
    grace: float | None
    start_deadline: float | None
    max_duration: float | None
    stall_after: float | None
    lost_after: float | None


class TargetOut(BaseModel):
    """An HTTP endpoint the hub calls to start the job."""

    kind: Literal["http"]
    url: str
    headers: list[str] = Field(description="the names of the headers sent (never values)")


class AgentTargetOut(BaseModel):
    """A command agents run for the job (docs/agents.md)."""

    kind: Literal["agent"]
    command: list[str]
    shell: bool
    cwd: str | None
    env: dict[str, str]
    agent: str | None
    tags: list[str]
    policy: Literal["one", "spread", "all"]
    concurrency: int | None
    retries: int
    retry_delay: float
    time_limit: float | None


class CatchUpOut(BaseModel):
    policy: Literal["none", "latest", "all"]
    limit: int


class ScheduleOut(BaseModel):
    name: str
    schedule: str | None
    timezone: str
    limits: LimitsOut
    target: TargetOut | AgentTargetOut | None = Field(
        None, description="only to those who may change it"
    )
    catch_up: CatchUpOut
    ping_url: str | None = Field(None, description="only to those who may use it")
    state: str | None
    due_at: Time | None
    next: list[Time | None]
    events: list[dict[str, Any]]


class PingKeyOut(BaseModel):
    id: str
    name: str
    created_at: Time
    revoked_at: Time | None = None


class NewPingKeyOut(PingKeyOut):
    key: str = Field(description="shown this once")


class PingKeyListOut(BaseModel):
    ping_keys: list[PingKeyOut]


class MeOut(BaseModel):
    name: str
    scope: str
    jobs: list[str]
    rooms: list[str]


class NodeOut(BaseModel):
    name: str
    host: str
    pid: int
    started_at: Time
    heartbeat_at: Time
    alive: bool
    this: bool


class NodeListOut(BaseModel):
    nodes: list[NodeOut]


class LiveOut(BaseModel):
    status: Literal["ok"]
    node: str


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str
    node: str
    version: str
    bus: str


class TokenOut(BaseModel):
    id: str
    name: str
    scope: str
    jobs: list[str]
    rooms: list[str]
    agent: str | None = Field(None, description="an agent token made for this agent only")
    created_at: Time
    revoked_at: Time | None


class NewTokenOut(TokenOut):
    token: str = Field(description="shown this once")


class TokenListOut(BaseModel):
    tokens: list[TokenOut]


class NewUserOut(BaseModel):
    id: int
    username: str
    role: Literal["viewer", "operator", "admin"]


class UserOut(NewUserOut):
    created_at: Time
    disabled_at: Time | None


class UserListOut(BaseModel):
    users: list[UserOut]


class ShareOut(BaseModel):
    id: str
    kind: Literal["room", "job"]
    target: str
    created_by: str
    created_at: Time
    revoked_at: Time | None


class NewShareOut(ShareOut):
    url: str
    token: str = Field(description="shown this once")


class ShareListOut(BaseModel):
    shares: list[ShareOut]
