"""Starting a routine by calling its service back over HTTP.

Contract: `post` returns when the service answered 2xx and raises SendError
otherwise (status or network error); the dispatcher retries with backoff.
"""

from __future__ import annotations

from typing import Any

import httpx

from .apprise_sender import SendError

TIMEOUT_SECONDS = 10.0
# One client for every callback: it keeps connections and its TLS setup, and is
# safe to share between the dispatcher's threads.
_client = httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)


def post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    try:
        response = _client.post(url, json=body, headers=headers or {})
    except httpx.HTTPError as exc:
        raise SendError(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise SendError(f"the service answered {response.status_code}: {response.text[:200]}")
