"""What a browser does against a hub node, for tests with real processes: sign in
through the login form, and hold a Server-Sent-Events stream open (SseStream)."""

from __future__ import annotations

import contextlib
import http.client as http_client
import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any


def sign_in(base_url: str, username: str, password: str) -> str:
    """Sign in through the login form, as a browser does; the Cookie header value."""
    parts = urllib.parse.urlsplit(base_url)
    conn = http_client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        conn.request("GET", "/login")
        response = conn.getresponse()
        page = response.read().decode()
        login_cookie = _cookies(response)["thereyet_login"]
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found, "no csrf field on /login"
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrf": found[1]}
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"thereyet_login={login_cookie}",
        }
        conn.request("POST", "/login", form, headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 303, f"sign-in answered {response.status}"
        return f"thereyet_session={_cookies(response)['thereyet_session']}"
    finally:
        conn.close()


def _cookies(response: http_client.HTTPResponse) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_all("set-cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


@dataclass
class SseEvent:
    event: str
    data: Any
    id: str | None
    at: float  # time.monotonic() when its blank line arrived


class SseStream:
    """A Server-Sent-Events stream read by a thread, as a browser holds one open.

        with SseStream(node.url + "/live/runs", cookie=cookie) as stream:
            stream.wait_for(lambda e: e.event == "runs" and ..., "the run on the stream")

    `status` is the answer's status, `headers` its headers (names in lower case); `events` every event so far (data parsed as JSON);
    `ended` is set when the server closed the stream."""

    def __init__(self, url: str, *, cookie: str | None = None, timeout: float = 10) -> None:
        parts = urllib.parse.urlsplit(url)
        self._conn = http_client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if cookie:
            headers["Cookie"] = cookie
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self._conn.request("GET", target, headers=headers)
        self._response = self._conn.getresponse()
        self.status = self._response.status
        self.headers = {k.lower(): v for k, v in self._response.headers.items()}
        self.events: list[SseEvent] = []
        self.ended = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        if self.status == 200:
            self._thread.start()
        else:
            self.ended.set()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self._response:
                line = raw.decode().rstrip("\r\n")
                if line:
                    if not line.startswith(":"):
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
                    continue
                if "data" in fields:
                    event = SseEvent(
                        fields.get("event", "message"),
                        json.loads(fields["data"]),
                        fields.get("id"),
                        time.monotonic(),
                    )
                    with self._changed:
                        self.events.append(event)
                        self._changed.notify_all()
                fields = {}
        except (OSError, ValueError, http_client.HTTPException):
            pass
        finally:
            self.ended.set()
            with self._changed:
                self._changed.notify_all()

    def wait_for(
        self, match: Callable[[SseEvent], bool], what: str, timeout: float = 10
    ) -> SseEvent:
        """The first event (so far or to come) that `match`es; fail naming `what`."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._changed:
            while True:
                for event in self.events[seen:]:
                    if match(event):
                        return event
                seen = len(self.events)
                left = deadline - time.monotonic()
                if left <= 0 or self.ended.is_set():
                    break
                self._changed.wait(left)
        state = "ended" if self.ended.is_set() else "open"
        raise AssertionError(
            f"no {what} on the stream ({state}) after {timeout} s: {self.events[-5:]}"
        )

    def close(self) -> None:
        """End the stream as a closed browser tab does; wait for the reader to stop."""
        sock = self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread.is_alive():
            self._thread.join(5)
        self._conn.close()

    def __enter__(self) -> SseStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
