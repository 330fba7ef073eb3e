"""What the agent protocol and the agents overview answer (documentation only; see
web/answers.py). Times are ISO 8601 in UTC."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .answers import Time


class AgentRunOut(BaseModel):
    run_id: str
    job: str
    state: str = Field(description="offered, running")
    stopping: bool


class AgentOut(BaseModel):
    name: str
    host: str
    tags: list[str]
    version: str
    slots: int
    slots_used: int
    state: str = Field(description="online or lost")
    last_seen_at: Time
    seconds_since_seen: float
    registered_at: Time
    runs: list[AgentRunOut]


class RegisteredOut(AgentOut):
    cancel: list[str] = Field(description="runs the agent still runs that it must stop")


class OfferOut(BaseModel):
    """A run handed to the agent: what to run, where and for how long."""

    run_id: str
    job: str
    command: list[str]
    shell: bool
    cwd: str | None
    env: dict[str, str]
    time_limit: float | None
    attempt: int


class PollOut(BaseModel):
    work: list[OfferOut]
    cancel: list[str] = Field(description="runs to stop")


class StartOut(OfferOut):
    token: str = Field(description="a token for this run only, for the command's SDK")


class QueuedOut(BaseModel):
    run_id: str
    job: str
    position: int
    queued_at: Time
    attempt: int
    waiting_for: str


class AgentsOut(BaseModel):
    agents: list[AgentOut]
    queue: list[QueuedOut]
    lost_after: float = Field(description="seconds of silence after which an agent is lost")


class CancelledOut(BaseModel):
    run_id: str
    status: str
    stopping: bool = Field(description="an agent is stopping the process; the run ends then")
