"""Request bodies of the JSON API, validated at the edge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ...domain import events as ev
from ...domain.names import NAME_PATTERN
from ...domain.runs import RunStatus

MAX_EVENTS = 5000
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{7,63}$"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


When = Annotated[datetime, AfterValidator(_utc)]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
FiniteNumber = Annotated[float, Field(allow_inf_nan=False)]
ShortText = Annotated[str, Field(max_length=255)]


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


class _EventIn(Body):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    ts: When | None = None


class ProgressIn(_EventIn):
    type: Literal["progress"]
    done: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    total: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    unit: Annotated[str, Field(max_length=32)] | None = None

    def to_event(self, now: datetime) -> ev.Event:
        return ev.Progress(self.id, self.ts or now, self.done, self.total, self.unit)


class LogIn(_EventIn):
    type: Literal["log"]
    text: Annotated[str, Field(max_length=16_384)]
    stream: Literal["stdout", "stderr", "log"] = "stdout"

    def to_event(self, now: datetime) -> ev.Event:
        return ev.Log(self.id, self.ts or now, self.text, self.stream)


class StatIn(_EventIn):
    type: Literal["stat"]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    value: FiniteNumber | Annotated[str, Field(max_length=255)]
    unit: Annotated[str, Field(max_length=32)] | None = None

    def to_event(self, now: datetime) -> ev.Event:
        return ev.Stat(self.id, self.ts or now, self.name, self.value, self.unit)


class NoteIn(_EventIn):
    type: Literal["note"]
    text: Annotated[str, Field(min_length=1, max_length=20_000)]

    def to_event(self, now: datetime) -> ev.Event:
        return ev.Note(self.id, self.ts or now, self.text)


class HeartbeatIn(_EventIn):
    type: Literal["heartbeat"]

    def to_event(self, now: datetime) -> ev.Event:
        return ev.Heartbeat(self.id, self.ts or now)


EventIn = Annotated[ProgressIn | LogIn | StatIn | NoteIn | HeartbeatIn, Field(discriminator="type")]


class EventBatchIn(Body):
    events: Annotated[list[EventIn], Field(min_length=1, max_length=MAX_EVENTS)]


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
    scope: Literal["admin", "read", "ingest"]
    jobs: Annotated[list[Name], Field(max_length=100)] = []
    rooms: Annotated[list[Name], Field(max_length=100)] = []
