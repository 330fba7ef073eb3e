"""Request bodies of the JSON API, validated at the edge."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NotRequired

from fastapi.exceptions import RequestValidationError
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    with_config,
)
from typing_extensions import TypedDict  # pydantic wants this one before Python 3.12

from ...domain import events as ev
from ...domain.links import MAX_URL, web_url_problem
from ...domain.names import NAME_PATTERN
from ...domain.runs import RunStatus

MAX_EVENTS = 5000
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{7,63}$"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_8601(value: object) -> object:
    """Refuse what pydantic would otherwise read as a time but the API does not document:
    numbers (`?since=0.5` was Unix time) and booleans."""
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("must be an ISO 8601 date and time, e.g. 2026-03-02T09:00:00Z")


When = Annotated[datetime, BeforeValidator(iso_8601), AfterValidator(_utc)]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
FiniteNumber = Annotated[float, Field(allow_inf_nan=False)]
ShortText = Annotated[str, Field(max_length=255)]


def _web_url(value: str) -> str:
    problem = web_url_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


WebUrl = Annotated[str, Field(max_length=MAX_URL), AfterValidator(_web_url)]
"""A link someone may click or the hub may call: http(s) only (see domain/links.py)."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunIn(Body):
    job: Name
    id: Annotated[str, Field(pattern=RUN_ID_PATTERN)] | None = None
    room: Name | None = None
    status: Literal["queued", "running"] = "running"
    host: ShortText | None = None
    pid: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    user: ShortText | None = None
    trigger: Annotated[str, Field(max_length=64)] | None = None
    total: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    unit: Annotated[str, Field(max_length=32)] | None = None
    started_at: When | None = None


# Events come in by the thousand a second, so they are validated into plain
# dicts (TypedDicts) rather than model instances, straight from the request's
# bytes (parse_event_batch): that is several times cheaper per event, and
# leaves the garbage collector far less to track.
EventId = Annotated[str, Field(pattern=ID_PATTERN)]
Unit = Annotated[str, Field(max_length=32)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


@with_config(ConfigDict(extra="forbid"))
class ProgressIn(TypedDict):
    id: EventId
    ts: NotRequired[datetime | None]
    type: Literal["progress"]
    done: NonNegative
    total: NotRequired[NonNegative | None]
    unit: NotRequired[Unit | None]


@with_config(ConfigDict(extra="forbid"))
class LogIn(TypedDict):
    id: EventId
    ts: NotRequired[datetime | None]
    type: Literal["log"]
    text: Annotated[str, Field(max_length=16_384)]
    stream: NotRequired[Literal["stdout", "stderr", "log"]]


@with_config(ConfigDict(extra="forbid"))
class StatIn(TypedDict):
    id: EventId
    ts: NotRequired[datetime | None]
    type: Literal["stat"]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    value: FiniteNumber | Annotated[str, Field(max_length=255)]
    unit: NotRequired[Unit | None]


@with_config(ConfigDict(extra="forbid"))
class NoteIn(TypedDict):
    id: EventId
    ts: NotRequired[datetime | None]
    type: Literal["note"]
    text: Annotated[str, Field(min_length=1, max_length=20_000)]


@with_config(ConfigDict(extra="forbid"))
class HeartbeatIn(TypedDict):
    id: EventId
    ts: NotRequired[datetime | None]
    type: Literal["heartbeat"]


EventIn = Annotated[ProgressIn | LogIn | StatIn | NoteIn | HeartbeatIn, Field(discriminator="type")]


class EventBatchIn(Body):
    events: Annotated[list[EventIn], Field(min_length=1, max_length=MAX_EVENTS)]


def to_event(event: EventIn, now: datetime) -> ev.Event:
    """The domain event for a validated one; its time in UTC, `now` if it gave none."""
    ts = event.get("ts")
    at = now if ts is None else _utc(ts)
    if event["type"] == "progress":
        return ev.Progress(event["id"], at, event["done"], event.get("total"), event.get("unit"))
    if event["type"] == "log":
        return ev.Log(event["id"], at, event["text"], event.get("stream", "stdout"))
    if event["type"] == "stat":
        return ev.Stat(event["id"], at, event["name"], event["value"], event.get("unit"))
    if event["type"] == "note":
        return ev.Note(event["id"], at, event["text"])
    return ev.Heartbeat(event["id"], at)


def parse_event_batch(raw: bytes, content_type: str | None) -> EventBatchIn:
    """Validate a batch from the request's bytes; errors are raised as FastAPI raises them."""
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        reason = "send the batch as JSON (Content-Type: application/json)"
        raise RequestValidationError([{"type": "content_type", "loc": ("body",), "msg": reason}])
    try:
        return EventBatchIn.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """`schema` with every reference to `defs` replaced by what it refers to."""
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return _inline(defs[schema["$ref"].rpartition("/")[2]], defs)
    inlined = {k: _inline(v, defs) for k, v in schema.items()}
    if "oneOf" in inlined:
        # A discriminator maps tags to schema names, which inlined variants
        # lack; each variant still states its own tag ("const").
        inlined.pop("discriminator", None)
    return inlined


def _openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI requestBody of an endpoint that validates `model` itself."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    content = {"application/json": {"schema": _inline(schema, defs)}}
    return {"requestBody": {"required": True, "content": content}}


EVENT_BATCH_OPENAPI = _openapi_body(EventBatchIn)


class FinishIn(Body):
    status: Literal["succeeded", "failed", "cancelled"]
    exit_code: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | None = None
    error: Annotated[str, Field(max_length=20_000)] | None = None
    id: Annotated[str, Field(pattern=ID_PATTERN)] | None = None

    @property
    def run_status(self) -> RunStatus:
        return RunStatus(self.status)


class RoomIn(Body):
    name: Name
    title: Annotated[str, Field(max_length=200)] = ""
    topic: Annotated[str, Field(max_length=2000)] = ""


class MessageIn(Body):
    text: Annotated[str, Field(min_length=1, max_length=20_000)]
    id: Annotated[str, Field(pattern=ID_PATTERN)] | None = None


class TokenIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    scope: Literal["admin", "read", "ingest", "agent"]
    jobs: Annotated[list[Name], Field(max_length=100)] = []
    rooms: Annotated[list[Name], Field(max_length=100)] = []
    # An agent token for this one agent name (else a fleet token: see docs/agents.md).
    agent: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")] | None = None


class JobPatch(Body):
    """What may be set on a job; a field left out stays as it is ("runbook_url": null removes it)."""

    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None
    runbook_url: WebUrl | None = None
    # What the job's rooms are told: every start and end ("all"), or only what changed
    # ("changes"); null: "changes" for runs started by pings, "all" for the rest.
    room_cards: Literal["all", "changes"] | None = None


class JobIn(JobPatch):
    name: Name
