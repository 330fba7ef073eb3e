"""The busiest route, answered before the framework: POST /api/v1/runs/{id}/events.

A thousand runs reporting once a second each send a thousand small requests a
second, and FastAPI's routing, dependency solving and middleware cost more per
request than the report itself. This path takes the plain case only: a valid
bearer token that may write, a body under the size limit, a valid batch and a
report the run accepts. Anything else (no or a bad token, bad input, an
unknown run, a refusal) goes on to the app with the body it has read, and the
app answers exactly as it always does: a refused report was rolled back, so
the app repeating it changes nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.policy import Action, Entry, Resource
from ..jsonsafe import int64_or_none
from .api.schemas import parse_event_batch, to_event

if TYPE_CHECKING:
    from ..services.runs import RunService
    from ..services.tokens import TokenService

_EVENTS = re.compile(r"/api/v1/runs/([^/]+)/events")


@dataclass
class IngestCounts:
    """How many reports this path answered, and how many it handed to the app."""

    answered: int = 0
    handed_on: int = 0


_JSON_HEADERS = [(b"content-type", b"application/json")]
_REPORT = Entry(Resource.RUNS, Action.WRITE)  # what the route declares in api/runs.py


def events_run_id(scope: Scope) -> str | None:
    """The run id if this request is a report of events, else None."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    found = _EVENTS.fullmatch(scope["path"])
    return found.group(1) if found else None


async def answer_report(
    app: ASGIApp, state: Any, run_id: str, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer a report of events if it is the plain case, else hand it to `app`.

    `state` is the app's state, where the services are once the hub has started."""
    result = await _plain_report(state, run_id, scope, receive)
    counts: IngestCounts | None = getattr(state, "ingest_counts", None)
    if counts is not None:
        counts.answered += isinstance(result, bytes)
        counts.handed_on += not isinstance(result, bytes)
    if isinstance(result, bytes):
        headers = [*_JSON_HEADERS, (b"content-length", str(len(result)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": result})
        return
    await app(scope, _replay(result, receive), send)


async def _plain_report(
    state: Any, run_id: str, scope: Scope, receive: Receive
) -> bytes | list[Message]:
    """The answer's body, or the request messages read so far (for the app to see again)."""
    read: list[Message] = []
    runs: RunService | None = getattr(state, "runs", None)
    tokens: TokenService | None = getattr(state, "tokens", None)
    if runs is None or tokens is None:  # not started, or shutting down
        return read
    headers = dict(scope["headers"])
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    try:
        who = await tokens.check(token.strip()) if scheme.lower() == "bearer" and token else None
    except Exception:  # say, the database is unreachable: the app answers that
        return read
    declared = int64_or_none(headers.get(b"content-length", b""))
    limit = runs.hub.settings.max_body_bytes
    if who is None or not who.reaches(_REPORT) or declared is None or declared > limit:
        return read
    chunks: list[bytes] = []
    while True:
        message = await receive()
        read.append(message)
        if message["type"] != "http.request":
            return read
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    content_type = headers.get(b"content-type", b"").decode("latin-1") or None
    try:
        body = parse_event_batch(b"".join(chunks), content_type)
        now = runs.hub.clock.now()
        result = await runs.report(who, run_id, [to_event(e, now) for e in body.events])
    except Exception:
        return read
    answer = {"accepted": result.accepted, "duplicates": result.duplicates}
    return json.dumps({**answer, "status": result.status.value}).encode()


def _replay(read: list[Message], receive: Receive) -> Receive:
    pending = list(read)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
