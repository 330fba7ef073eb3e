"""The configuration files' format: one pydantic model per kind of object.

A file is a TOML document whose top-level tables are kinds (`[rooms.ops]`,
`[jobs.nightly-backup]` ...). The same models validate the files, give the
canonical form that plan compares and export writes, and generate the JSON
Schema editors use. Secrets are never in the files: a secret field holds a
reference, `env:NAME` or `file:/path`, resolved where the files are read.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ..domain.names import NAME_PATTERN

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Seconds = Annotated[float, Field(gt=0, le=366 * 86400)]
Secret = Annotated[
    str, Field(min_length=1, max_length=4000, description="a value, or env:NAME / file:/path")
]
Level = Literal["error", "warning", "off"]
PingUuid = Annotated[
    str,
    Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
]
RUN_EVENTS = Literal[
    "started", "succeeded", "failed", "late", "missed", "stalled", "overdue", "lost"
]
PAGE_EVENTS = Literal["failed", "missed", "stalled", "overdue", "lost"]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone offset (e.g. Z or +02:00)")
    return value


Aware = Annotated[datetime, AfterValidator(_aware)]


class Part(BaseModel):
    """A table of a file: unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Hub(Part):
    """Hub-wide settings."""

    public_url: Annotated[str, Field(min_length=8, max_length=500)] | None = None
    managed_changes: Literal["refuse", "warn"] = Field(
        default="refuse", description="what the API does when asked to change a managed object"
    )


class PolicyChecks(Part):
    """How plan treats each policy check: an error stops apply, a warning is printed."""

    job_runbook: Level = Field(default="error", description="a job that can page has a runbook URL")
    policy_reaches_person: Level = Field(
        default="error", description="every escalation policy reaches at least one person"
    )
    rotation_gaps: Level = Field(
        default="error", description="no rotation leaves a gap in the next 90 days"
    )
    integration_posts: Level = Field(
        default="error", description="every integration posts to a room or a service"
    )


class Room(Part):
    title: Annotated[str, Field(max_length=200)] = ""
    topic: Annotated[str, Field(max_length=2000)] = ""


class Target(Part):
    kind: Literal["http"] = "http"
    url: Secret
    headers: Annotated[dict[str, Secret], Field(max_length=20)] = {}


AgentName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


class AgentTarget(Part):
    """A command agents run (docs/agents.md): where, on which agents, how many at once."""

    kind: Literal["agent"]
    command: Annotated[list[Annotated[str, Field(max_length=4096)]], Field(min_length=1)]
    shell: bool = False
    cwd: Annotated[str, Field(max_length=4096)] | None = None
    env: Annotated[dict[str, Annotated[str, Field(max_length=4096)]], Field(max_length=100)] = {}
    agent: AgentName | None = None
    tags: Annotated[list[AgentName], Field(max_length=20)] = []
    policy: Literal["one", "spread", "all"] = "one"
    concurrency: Annotated[int, Field(ge=1, le=1000)] | None = None
    retries: Annotated[int, Field(ge=0, le=20)] = 0
    retry_delay: Annotated[float, Field(ge=0, le=86400)] = 0.0
    time_limit: Annotated[float, Field(ge=1, le=366 * 86400)] | None = None


class Paging(Part):
    """Which of a job's events open an incident, on which service."""

    service: Name
    events: list[PAGE_EVENTS] = ["failed", "missed", "stalled", "overdue", "lost"]


class Job(Part):
    title: Annotated[str, Field(max_length=200)] = ""
    description: Annotated[str, Field(max_length=20_000)] = ""
    runbook_url: Annotated[str, Field(max_length=2000)] | None = None
    schedule: Annotated[str, Field(max_length=200)] | None = None
    timezone: Annotated[str, Field(max_length=64)] | None = None
    grace: Seconds | None = None
    start_deadline: Seconds | None = None
    max_duration: Seconds | None = None
    stall_after: Seconds | None = None
    lost_after: Seconds | None = None
    rooms: Annotated[list[Name], Field(max_length=50)] = []
    target: Target | AgentTarget | None = None
    paging: Paging | None = None
    ping_uuid: PingUuid | None = Field(
        default=None,
        description="the job's ping URL (/ping/<uuid>); export writes it, so a hub rebuilt "
        "from the files keeps its ping URLs; left out, apply keeps the hub's or makes one",
    )


class Route(Part):
    job: Name | None = None
    room: Name | None = None
    events: list[RUN_EVENTS] = ["failed", "late", "missed", "stalled", "overdue", "lost"]


class Channel(Part):
    url: Secret
    routes: Annotated[list[Route], Field(max_length=100)] = []
    bridges: Annotated[list[Name], Field(max_length=100)] = Field(
        default=[], description="rooms whose every new message is mirrored to this channel"
    )


class Rule(Part):
    method: Name
    after_minutes: Annotated[int, Field(ge=0, le=1440)] = 0


class Person(Part):
    timezone: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"
    work_days: Annotated[list[Annotated[int, Field(ge=0, le=6)]], Field(max_length=7)] = [
        0,
        1,
        2,
        3,
        4,
    ]
    work_start: ClockTime = "09:00"
    work_end: ClockTime = "17:00"
    contact_methods: Annotated[dict[Name, Secret], Field(max_length=20)] = {}
    rules: Annotated[list[Rule], Field(max_length=20)] = []


class Override(Part):
    person: Name
    starts_at: Aware
    ends_at: Aware
    note: Annotated[str, Field(max_length=200)] = ""


class Rotation(Part):
    timezone: Annotated[str, Field(min_length=1, max_length=64)]
    start_date: date
    handoff: ClockTime = "09:00"
    shift_hours: Annotated[int, Field(ge=1, le=24 * 28)] = 168
    participants: Annotated[list[Name], Field(min_length=1, max_length=100)]
    overrides: Annotated[list[Override], Field(max_length=500)] = []


class StepTarget(Part):
    kind: Literal["rotation", "person", "channel"]
    name: Annotated[str, Field(min_length=1, max_length=64)]


class Step(Part):
    targets: Annotated[list[StepTarget], Field(min_length=1, max_length=20)]
    delay_minutes: Annotated[int, Field(ge=1, le=1440)] = 15


class EscalationPolicy(Part):
    steps: Annotated[list[Step], Field(min_length=1, max_length=20)]
    repeat: Annotated[int, Field(ge=0, le=10)] = 0


class Service(Part):
    room: Name | None = None
    policy: Name | None = None
    runbook_url: Annotated[str, Field(max_length=2000)] | None = None
    require_runbook: bool = False


IntegrationKind = Literal[
    "slack", "github", "gitlab", "jenkins", "nagios", "pagerduty", "alertmanager", "generic"
]


class Integration(Part):
    """An inbound endpoint. Hook kinds post to a room; alert kinds open incidents
    on a service. Its URL token is generated by apply and shown once."""

    kind: IntegrationKind
    format: IntegrationKind | None = Field(
        default=None, description="deprecated: the former name of kind (read for one release)"
    )
    room: Name | None = None
    service: Name | None = None
    secret: Secret | None = Field(
        default=None, description="GitHub HMAC key or GitLab token (generated when left out)"
    )

    @model_validator(mode="before")
    @classmethod
    def _former_name(cls, data: Any) -> Any:
        """`format = "github"` (the former name) reads as `kind = "github"`."""
        if isinstance(data, dict) and "format" in data:
            if "kind" in data:
                raise ValueError("give kind, not also format (its former name)")
            data = {("kind" if k == "format" else k): v for k, v in data.items()}
        return data


class Command(BaseModel):
    """A ChatOps command, in the format of the former commands.toml (see docs/chatops.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    template: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    description: Annotated[str, Field(max_length=500)] = ""
    examples: Annotated[list[str], Field(max_length=20)] = []
    confirm: bool = False
    allow: dict[str, list[str]] = {}
    approval: dict[str, list[str]] = {}
    action: dict[str, Any]


class User(Part):
    """A web user and their role. Passwords are never in the files: set one with
    `thereyet user password NAME`; until then the user cannot sign in."""

    role: Literal["viewer", "operator", "admin"]
    disabled: bool = False


class Token(Part):
    """An API token by name and scope; apply generates its secret and shows it once. An
    agent token may be made for one agent name (`agent`): only that agent registers with it."""

    scope: Literal["admin", "read", "ingest", "agent"]
    jobs: list[Name] = []
    rooms: list[Name] = []
    agent: AgentName | None = None

    @model_validator(mode="after")
    def _agent_of_agent_token(self) -> Token:
        if self.agent is not None and self.scope != "agent":
            raise ValueError('agent: only an agent token (scope = "agent") is made for one agent')
        return self


class PingKey(Part):
    """A key for healthchecks-style `/ping/<key>/<job>` URLs; apply generates it, shown once."""


class ConfigFile(Part):
    """One file of the configuration directory; every table is optional."""

    hub: Hub | None = None
    policy: PolicyChecks | None = None
    rooms: dict[Name, Room] = {}
    jobs: dict[Name, Job] = {}
    channels: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")], Channel] = {}
    people: dict[Name, Person] = {}
    rotations: dict[Name, Rotation] = {}
    escalation_policies: dict[Name, EscalationPolicy] = {}
    services: dict[Name, Service] = {}
    integrations: dict[Name, Integration] = {}
    commands: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")], Command] = {}
    users: dict[Annotated[str, Field(min_length=1, max_length=64)], User] = {}
    tokens: dict[Annotated[str, Field(min_length=1, max_length=200)], Token] = {}
    ping_keys: dict[Annotated[str, Field(min_length=1, max_length=200)], PingKey] = {}


# Kinds in the order apply creates them (each may name the ones before it).
KINDS: dict[str, type[BaseModel]] = {
    "rooms": Room,
    "channels": Channel,
    "people": Person,
    "rotations": Rotation,
    "escalation_policies": EscalationPolicy,
    "services": Service,
    "jobs": Job,
    "integrations": Integration,
    "commands": Command,
    "users": User,
    "tokens": Token,
    "ping_keys": PingKey,
}
SINGLETONS = ("hub",)  # hub-wide tables that apply writes; `policy` only steers plan


def json_schema() -> dict[str, Any]:
    """The JSON Schema of one configuration file (editors validate and complete with it)."""
    schema = ConfigFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "thereyet configuration file"
    return schema
