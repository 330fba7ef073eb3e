"""Every JSON body is checked before any route reads it (see jsonsafe.py for the rules).

An ASGI middleware: a body that is JSON by its Content-Type (or, with no type or
text/plain, by its first character, as Slack-style senders post) is read whole,
checked without recursion, and refused with 422 {"error", "field", "fields"}
when it is nested too deep, holds NaN or Infinity, an integer beyond 64 bits or
invalid Unicode. Otherwise the route sees the same bytes as if nothing had
looked; so does a body that is not JSON at all, which the route refuses in its
own words. Routes that answer in another tool's format (pings, PagerDuty) or
tell someone about a refused delivery (hooks) check with jsonsafe.loads
themselves.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..jsonsafe import UnsafeJSON, loads


class InputGuard:
    """Refuse unsafe JSON bodies with 422 before the app sees them, except under `skip`."""

    def __init__(self, app: ASGIApp, skip: tuple[str, ...] = ()) -> None:
        self.app = app
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        # An attachment's body is a file, JSON or not, kept as it came.
        if path.startswith(self.skip) or path.endswith("/attachments") or not _may_be_json(scope):
            await self.app(scope, receive, send)
            return
        read, body = await _read_all(receive)
        if body is not None and _looks_like_json(scope, body):
            try:
                loads(body)
            except UnsafeJSON as exc:
                if not exc.syntax:  # a body that is not JSON at all: the route says so its way
                    await _refuse(send, exc)
                    return
        await self.app(scope, _replay(read, receive), send)


def _media(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return str(value.decode("latin-1")).split(";")[0].strip().lower()
    return ""


def _is_json_media(media: str) -> bool:
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _may_be_json(scope: Scope) -> bool:
    media = _media(scope)
    return _is_json_media(media) or media in ("", "text/plain")


def _looks_like_json(scope: Scope, body: bytes) -> bool:
    if _is_json_media(_media(scope)):
        return bool(body.strip())
    return body.lstrip()[:1] in (b"{", b"[")


async def _read_all(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The messages read and the whole body (None if the client went away first)."""
    read: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        read.append(message)
        if message["type"] != "http.request":
            return read, None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return read, b"".join(chunks)


def _replay(read: list[Message], receive: Receive) -> Receive:
    pending = list(read)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def _refuse(send: Send, exc: UnsafeJSON) -> None:
    error = {"field": exc.field, "reason": exc.reason}
    body = json.dumps({"error": str(exc), "field": exc.field, "fields": [error]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body})
