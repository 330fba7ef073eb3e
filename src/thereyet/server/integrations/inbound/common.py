"""What every inbound format shares: the parsed result, its errors, and body reading.

A format module has `verify(headers, body, secret)` (raises BadSignature) and
`parse(headers, body)` (raises BadPayload). Both are pure: they read what was
sent and say what to post; the integration service writes it all at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from ...jsonsafe import UnsafeJSON, loads

Headers = Mapping[str, str]  # lower-case names


class BadPayload(ValueError):
    """The body cannot be read as this format; `field` names where."""

    def __init__(self, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadSignature(ValueError):
    """The request is not signed (or not signed with this integration's secret)."""


@dataclass(frozen=True)
class Post:
    """One message for the integration's room; posts with the same thread belong together."""

    text: str
    thread: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildRun:
    """A build seen as a run of a job: created when it is queued or starts, finished when it ends."""

    job: str
    key: str  # unique per build within the integration
    phase: str  # queued | running | succeeded | failed | cancelled
    url: str | None = None


@dataclass(frozen=True)
class Parsed:
    posts: list[Post]
    delivery_id: str | None = None  # repeated deliveries with this id are dropped
    idempotency_key: str | None = None  # and those of a sender's retries (same key)
    body_digest: str | None = None  # and, for signed formats, repeated bodies
    runs: list[BuildRun] = field(default_factory=list)


def read_json_or_form(headers: Headers, body: bytes) -> dict[str, Any]:
    """A JSON object from a JSON body or a `payload=` form field (Slack, GitHub)."""
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    text = _text(body)
    if kind == "application/x-www-form-urlencoded":
        form = parse_qs(text)
        if "payload" not in form:
            raise BadPayload("a form body needs a payload= field with JSON", "payload")
        text, where = form["payload"][0], "payload"
    else:
        where = "body"
    try:
        data = loads(text, where)
    except UnsafeJSON as exc:
        raise BadPayload(f"{exc.field} {exc.reason}", exc.field) from None
    if not isinstance(data, dict):
        raise BadPayload("expected a JSON object", where)
    return data


def read_fields(headers: Headers, body: bytes) -> dict[str, Any]:
    """A JSON object, or plain form fields (curl -d key=value)."""
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return {k: v[-1] for k, v in parse_qs(_text(body)).items()}
    return read_json_or_form(headers, body)


def _text(body: bytes) -> str:
    if not body.strip():
        raise BadPayload("the body is empty")
    try:
        return body.decode()
    except UnicodeDecodeError:
        raise BadPayload("the body is not UTF-8") from None


def text_at(data: Mapping[str, Any], path: str, *, required: bool = True) -> str:
    """The string at a dotted path (`pull_request.title`), or BadPayload naming it."""
    value: Any = data
    for key in path.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    if value is None or isinstance(value, dict | list):
        if required:
            raise BadPayload(f"{path} is missing", path)
        return ""
    return str(value)


def short(text: str, limit: int = 300) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"
