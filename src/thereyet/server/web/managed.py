"""Objects that came from configuration files are changed in the files, not here.

A request that would change a managed object through the API is answered 409,
naming the file that owns it; with `[hub] managed_changes = "warn"` it goes
through with a `Warning` header instead (and `thereyet plan` shows the drift).
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# (method, path) -> kind: the API calls that change one named object.
_GUARDED = [
    ("PATCH", re.compile(r"^/api/v1/jobs/([^/]+)$"), "jobs"),
    ("PUT", re.compile(r"^/api/v1/jobs/([^/]+)/schedule$"), "jobs"),
    ("PUT", re.compile(r"^/api/v1/oncall/jobs/([^/]+)$"), "jobs"),
    ("DELETE", re.compile(r"^/api/v1/channels/([^/]+)$"), "channels"),
    ("DELETE", re.compile(r"^/api/v1/integrations/([^/]+)$"), "integrations"),
    ("POST", re.compile(r"^/integrations/([^/]+)/delete$"), "integrations"),  # the page
    ("PUT", re.compile(r"^/api/v1/oncall/people/([^/]+)$"), "people"),
    ("PUT", re.compile(r"^/api/v1/oncall/rotations/([^/]+)$"), "rotations"),
    ("PUT", re.compile(r"^/api/v1/oncall/policies/([^/]+)$"), "escalation_policies"),
    ("PUT", re.compile(r"^/api/v1/oncall/services/([^/]+)$"), "services"),
    ("PUT", re.compile(r"^/api/v1/users/([^/]+)/role$"), "users"),
    # By id: the service finds the named object (a token's name, a route's channel).
    ("DELETE", re.compile(r"^/api/v1/tokens/([^/]+)$"), "token-id"),
    # (Ids too long for the store are left to the route, which refuses them with a 422.)
    ("DELETE", re.compile(r"^/api/v1/routes/([0-9]{1,9})$"), "route-id"),
    ("PUT", re.compile(r"^/api/v1/oncall/public-url()$"), "hub"),
]


def guarded(method: str, path: str) -> tuple[str, str] | None:
    """The (kind, name) a request would change, if it changes a configurable object."""
    for verb, pattern, kind in _GUARDED:
        found = pattern.match(path)
        if verb == method and found:
            return kind, unquote(found.group(1))
    return None


class ManagedGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = (
            guarded(scope.get("method", ""), scope.get("path", ""))
            if scope["type"] == "http"
            else None
        )
        if target is None:
            await self.app(scope, receive, send)
            return
        config = scope["app"].state.config
        owner = await run_in_threadpool(config.owner, *target)
        if owner is None:
            await self.app(scope, receive, send)
            return
        file, mode, what = owner
        reason = f"{what} is managed by the configuration file {file}: change it there and apply"
        if mode == "warn":
            await self.app(scope, receive, _with_warning(send, reason))
            return
        body = json.dumps({"error": reason, "field": "name", "file": file}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 409, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _with_warning(send: Send, reason: str) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            warning = f'299 thereyet "{reason}"'.encode()
            message = {**message, "headers": [*message.get("headers", []), (b"warning", warning)]}
        await send(message)

    return sending
