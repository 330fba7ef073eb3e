"""Clients that send a request slowly are dropped after a bounded time.

uvicorn waits as long as a client likes for a request's headers (its keep-alive
timeout only covers the quiet time between requests), so a few hundred
connections trickling one header byte a minute hold the hub's sockets open. The
protocol here answers 408 and closes a connection whose headers have not all
arrived `header_timeout` seconds after they began. (A body that stops half-way
is the app's to time: web/limits.py BodyTimeout.)
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 36\r\n\r\nthe request headers came too slowly\n"
)


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for each request's headers."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a client that connects and says nothing is timed too

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered; its headers came in time
        if not self.transport.is_closing():
            self.transport.write(_TIMED_OUT)
            self.transport.close()


def protocol_with(header_timeout: float) -> type[Any]:
    """The protocol class for uvicorn's `http=`, with this header deadline."""
    return type("TimedHttpProtocol", (HeaderTimeoutProtocol,), {"header_timeout": header_timeout})
