"""Refuse request bodies over the size limit before reading them whole (413), and drop
bodies that stop arriving (408)."""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..jsonsafe import int64_or_none


class BodyLimit:
    """An ASGI middleware: bodies over `default` bytes (or a larger limit for
    paths starting with a prefix in `larger`) get 413 and never reach the app."""

    def __init__(self, app: ASGIApp, default: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.larger = larger or {}

    def _limit(self, path: str) -> int:
        for suffix, limit in self.larger.items():
            if path.endswith(suffix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (int64_or_none(declared) or 0) > limit:
            await _too_large(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send, limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"error": f"request body is larger than {limit} bytes", "field": "body"})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})


class BodyTimeout:
    """An ASGI middleware: a request body that pauses more than `seconds` between two
    chunks is dropped: the client gets 408 and the connection is closed, so a half-sent
    body cannot hold a connection (and the route waiting on it) open."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False
        timed_out = False

        async def timed() -> Message:
            nonlocal body_done, timed_out
            if body_done or timed_out:
                return await receive()  # after the body: only a disconnect, whenever it comes
            try:
                message = await asyncio.wait_for(receive(), self.seconds)
            except TimeoutError:
                timed_out = True
                await _timed_out(send)
                return {"type": "http.disconnect"}
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def guarded(message: Message) -> None:
            if not timed_out:  # the 408 has been sent in the app's place
                await send(message)

        await self.app(scope, timed, guarded)


async def _timed_out(send: Send) -> None:
    body = json.dumps({"error": "the request body stopped arriving", "field": "body"}).encode()
    headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 408, "headers": headers})
    await send({"type": "http.response.body", "body": body})
