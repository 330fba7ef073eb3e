"""Pings answered before the framework: /ping/<uuid>[/start|/fail|/log|/<exit-status>],
and /ping/<ping-key>/<slug>[/...] for a check that exists (without ?create=1).

A company's crontabs ping in bursts at the top of each minute, and FastAPI's
routing, dependency solving and middleware cost more than recording the ping
(see web/ingest.py for the same path for reports of events). This path takes
the plain case only: HEAD, GET or POST to a lowercase ping UUID with an
optional action, no query or only `?rid=`, and a body within the size limit.
It asks the same service the app's route does and answers with the route's
own answer, the service's refusals included (not found, rate limited: the
route turns the same PingError into the same plain-text answer). Anything
else (another URL form, an error) goes on to the app with the body it has
read, and the app answers as it always does: a ping that failed changed
nothing, so the app repeating it is safe.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..services.pings import Ping, PingError, parse_rid
from .compat.ping import action, answer
from .ingest import IngestCounts, _replay

if TYPE_CHECKING:
    from ..services.pings import PingService

_HEX = "[0-9a-f]"
_UUID = rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
_PING = re.compile(rf"/ping/({_UUID})(?:/([a-z0-9]+))?")
# A ping key (URL-safe base64) and a slug. A uuid in any case is the uuid form's (the
# route reads it so): such a path goes on to the app.
_SLUG_PING = re.compile(
    r"/ping/([A-Za-z0-9_-]{1,64})/([a-z0-9][a-z0-9._-]{0,199})(?:/([a-z0-9]+))?"
)
_ANY_UUID = re.compile(_UUID, re.IGNORECASE)
_RID = re.compile(rb"rid=([0-9a-f-]{36})")
_METHODS = frozenset({"GET", "HEAD", "POST"})


def ping_uuid(scope: Scope) -> re.Match[str] | None:
    """The path's match if this request may be a plain ping, else None: by uuid (groups
    uuid, action) or by slug (key, slug, action)."""
    if scope["type"] != "http" or scope["method"] not in _METHODS:
        return None
    path = scope["path"]
    found = _PING.fullmatch(path)
    if found is None and (found := _SLUG_PING.fullmatch(path)) is not None:
        return None if _ANY_UUID.fullmatch(found.group(1)) else found
    return found


async def answer_ping(
    app: ASGIApp, state: Any, found: re.Match[str], scope: Scope, receive: Receive, send: Send
) -> None:
    """Record a plain ping and answer it, else hand the request to `app`.

    `state` is the app's state, where the services are once the hub has started."""
    status, read = await _plain_ping(state, found, scope, receive)
    counts: IngestCounts | None = getattr(state, "ping_counts", None)
    if counts is not None:
        counts.answered += status is not None
        counts.handed_on += status is None
    if status is None:
        await app(scope, _replay(read, receive), send)
        return
    start, body = _answer_messages(scope["method"], *status)
    await send(start)
    await send(body)


_ANSWERS: dict[tuple[str, int, str], tuple[Message, Message]] = {}


def _answer_messages(method: str, status: int, text: str) -> tuple[Message, Message]:
    """The route's own answer, as the two messages it sends; made once per method,
    status and text (a handful: they never change), since building a Response for
    each ping cost more than sending it."""
    found = _ANSWERS.get((method, status, text))
    if found is None:
        response = answer(method, status, text)
        start = {"type": "http.response.start", "status": status, "headers": response.raw_headers}
        body = {"type": "http.response.body", "body": response.body}
        found = _ANSWERS[(method, status, text)] = (start, body)
    return found


async def _plain_ping(
    state: Any, found: re.Match[str], scope: Scope, receive: Receive
) -> tuple[tuple[int, str] | None, list[Message]]:
    """The answer's status and text (None: hand on), and the request messages read."""
    read: list[Message] = []
    pings: PingService | None = getattr(state, "pings", None)
    query: bytes = scope["query_string"]
    rid_given = _RID.fullmatch(query)
    if pings is None or (query and rid_given is None):
        return None, read
    headers = dict(scope["headers"])
    declared = headers.get(b"content-length", b"0")
    if b"transfer-encoding" in headers or not declared.isdigit():
        return None, read
    if int(declared) > pings.hub.settings.max_body_bytes:
        return None, read
    chunks: list[bytes] = []
    while True:
        message = await receive()
        read.append(message)
        if message["type"] != "http.request":
            return None, read
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    by_slug = found.re is _SLUG_PING
    try:
        what, code = action(found.group(3 if by_slug else 2))
        rid = parse_rid(rid_given.group(1).decode()) if rid_given else None
    except PingError:  # a URL off the plain form: the route's own parsing
        return None, read
    ping = Ping(what, code, rid, b"".join(chunks))
    try:
        if by_slug:
            status = await pings.by_slug(found.group(1), found.group(2), ping, create=False)
        else:
            status = await pings.by_uuid(found.group(1), ping)
    except PingError as exc:  # refused (not found, rate limited): the route's answer
        return (exc.status, exc.message), read
    except Exception:  # failed: the app answers it its own way
        return None, read
    return (status, "Created" if status == 201 else "OK"), read
