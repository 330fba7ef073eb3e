"""GitHub webhooks: push, pull_request, workflow_run (and ping).

Every delivery is signed: X-Hub-Signature-256 is `sha256=` and the HMAC-SHA256
of the raw body with the webhook's secret, compared in constant time.
X-GitHub-Delivery identifies a delivery and is required; a delivery whose id or
body was seen in the last 72 hours (a redelivery, or a captured one replayed) is
dropped.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from .common import (
    BadPayload,
    BadSignature,
    Headers,
    Parsed,
    Post,
    read_json_or_form,
    short,
    text_at,
)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(headers: Headers, body: bytes, secret: str | None) -> None:
    given = headers.get("x-hub-signature-256", "")
    if not given:
        raise BadSignature("X-Hub-Signature-256 is missing: set the webhook's secret")
    if secret is None or not hmac.compare_digest(given.encode(), sign(secret, body).encode()):
        raise BadSignature("X-Hub-Signature-256 does not match this integration's secret")


def parse(headers: Headers, body: bytes) -> Parsed:
    event = headers.get("x-github-event", "")
    if not event:
        raise BadPayload("X-GitHub-Event is missing", "X-GitHub-Event")
    delivery = headers.get("x-github-delivery", "").strip()
    if not delivery:
        raise BadPayload("X-GitHub-Delivery is missing", "X-GitHub-Delivery")
    data = read_json_or_form(headers, body)
    handler = _EVENTS.get(event)
    posts = handler(data) if handler else []
    # The signature covers the body, not the headers: a captured delivery sent again
    # under a new delivery id is still the same body, so both are remembered.
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    return Parsed(posts, delivery_id=delivery[:128], body_digest=digest)


def _repo(data: dict[str, Any]) -> str:
    return text_at(data, "repository.full_name")


def _push(data: dict[str, Any]) -> list[Post]:
    repo, ref = _repo(data), text_at(data, "ref")
    branch = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    commits = data.get("commits") or []
    if not isinstance(commits, list):
        raise BadPayload("commits must be a list", "commits")
    who = text_at(data, "pusher.name", required=False) or text_at(
        data, "sender.login", required=False
    )
    lines = [
        f"**{who}** pushed {len(commits)} commit{'s' * (len(commits) != 1)} to {repo} `{branch}`"
    ]
    for c in commits[:10]:
        if isinstance(c, dict):
            lines.append(f"- `{str(c.get('id', ''))[:7]}` {short(str(c.get('message', '')), 120)}")
    if compare := text_at(data, "compare", required=False):
        lines.append(compare)
    return [Post("\n".join(lines), f"github:{repo}:push:{branch}", {"repo": repo})]


def _pull_request(data: dict[str, Any]) -> list[Post]:
    repo, action = _repo(data), text_at(data, "action")
    number = text_at(data, "pull_request.number")
    title = text_at(data, "pull_request.title")
    url = text_at(data, "pull_request.html_url", required=False)
    who = text_at(data, "sender.login", required=False) or text_at(
        data, "pull_request.user.login", required=False
    )
    if action == "closed" and data["pull_request"].get("merged"):
        action = "merged"
    text = f"**{who}** {action} pull request [{repo}#{number}]({url}): {short(title)}"
    return [Post(text, f"github:{repo}:pr:{number}", {"repo": repo, "action": action})]


def _workflow_run(data: dict[str, Any]) -> list[Post]:
    repo, action = _repo(data), text_at(data, "action")
    name = text_at(data, "workflow_run.name")
    run_id = text_at(data, "workflow_run.id")
    branch = text_at(data, "workflow_run.head_branch", required=False)
    url = text_at(data, "workflow_run.html_url", required=False)
    state = text_at(data, "workflow_run.conclusion", required=False) or action
    text = f"workflow [{name}]({url}) on {repo} `{branch}`: {state.replace('_', ' ')}"
    return [Post(text, f"github:{repo}:workflow:{run_id}", {"repo": repo, "state": state})]


def _ping(data: dict[str, Any]) -> list[Post]:
    where = text_at(data, "repository.full_name", required=False) or "GitHub"
    return [
        Post(f"GitHub webhook connected for {where}: {short(text_at(data, 'zen', required=False))}")
    ]


_EVENTS = {
    "push": _push,
    "pull_request": _pull_request,
    "workflow_run": _workflow_run,
    "ping": _ping,
}
