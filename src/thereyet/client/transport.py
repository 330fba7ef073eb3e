"""HTTP to the hub over the standard library, one kept-alive connection per sender.

A call returns the decoded JSON answer or raises HubError. `HubError.retry`
says whether trying again later can help (network trouble, 408, 429, 5xx).
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from .. import __version__

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# What sending on a connection the server already closed looks like.
STALE_CONNECTION = (
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
)


class HubError(Exception):
    """The hub could not be reached, or refused the request."""

    def __init__(
        self, reason: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after

    @property
    def retry(self) -> bool:
        return self.status is None or self.status in RETRY_STATUSES


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


def path(*parts: str, **query: Any) -> str:
    """An API path with each part quoted, e.g. path("runs", run_id, "events")."""
    out = "/api/v1/" + "/".join(quote(p, safe="") for p in parts)
    clean = {k: v for k, v in query.items() if v is not None}
    return out + ("?" + urlencode(clean, doseq=True) if clean else "")


class Transport:
    """Calls the hub at `url` with the bearer `token`. Not thread-safe: one per thread."""

    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"hub URL must be http(s)://host[:port], not {url!r}")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._token = token
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def call(
        self,
        method: str,
        target: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> Answer:
        """Send one request; raise HubError unless the hub answers 2xx."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {
            "Authorization": f"Bearer {self._token}",
            "User-Agent": f"thereyet-sdk/{__version__}",
            "Accept": "application/json",
        }
        if data is not None:
            headers["Content-Type"] = content_type
        try:
            response, payload = self._exchange(method, target, data, headers)
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            self.close()
            raise HubError(f"hub unreachable at {self.url}: {exc}") from exc
        retry_after = response.getheader("Retry-After")
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        decoded = _decode(payload)
        if 200 <= response.status < 300:
            return Answer(response.status, decoded)
        reason = decoded.get("error") if isinstance(decoded, dict) else None
        raise HubError(
            f"hub answered {response.status}: {reason or response.reason}",
            status=response.status,
            retry_after=_seconds(retry_after),
        )

    def _exchange(
        self, method: str, target: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[http.client.HTTPResponse, bytes]:
        """One request and its answer. A kept-alive connection the hub closed while
        idle fails at once (broken pipe, reset, no answer): that is no outage, so the
        request is sent once more on a fresh connection. Reports carry their ids, so
        a request the hub did see is not applied twice."""
        reused = self._conn is not None and self._conn.sock is not None
        try:
            conn = self._connection()
            conn.request(method, self._prefix + target, body=data, headers=headers)
            response = conn.getresponse()
            return response, response.read()
        except STALE_CONNECTION:
            if not reused:
                raise
            self.close()
        conn = self._connection()
        conn.request(method, self._prefix + target, body=data, headers=headers)
        response = conn.getresponse()
        return response, response.read()


def _decode(payload: bytes) -> Any:
    if not payload:
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return None


def _seconds(value: str | None) -> float | None:
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None
