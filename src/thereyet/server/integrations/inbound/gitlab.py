"""GitLab webhooks: push, merge_request, pipeline.

GitLab sends the webhook's secret token in X-Gitlab-Token; the hub keeps only
its SHA-256 and compares digests in constant time. A delivery seen in the last
72 hours is dropped: GitLab's Idempotency-Key (GitLab 17.4+) stays the same when a
delivery is retried or resent by hand from the webhook's log, and X-Gitlab-Event-UUID
is the same for every webhook one event triggers; either one seen again is a repeat.
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


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def verify(headers: Headers, body: bytes, secret: str | None) -> None:
    """`secret` is the SHA-256 of the token, as stored."""
    given = headers.get("x-gitlab-token", "")
    if not given:
        raise BadSignature("X-Gitlab-Token is missing: set the webhook's secret token")
    if secret is None or not hmac.compare_digest(token_hash(given), secret):
        raise BadSignature("X-Gitlab-Token does not match this integration's token")


def parse(headers: Headers, body: bytes) -> Parsed:
    data = read_json_or_form(headers, body)
    kind = text_at(data, "object_kind")
    handler = _KINDS.get(kind)
    event = headers.get("x-gitlab-event-uuid", "").strip()
    retry = headers.get("idempotency-key", "").strip()
    return Parsed(
        handler(data) if handler else [],
        delivery_id=event[:128] or None,
        # Kept apart from event ids, which a sender chooses as freely.
        idempotency_key=f"idempotency-key:{retry}"[:128] if retry else None,
    )


def _project(data: dict[str, Any]) -> str:
    return text_at(data, "project.path_with_namespace")


def _push(data: dict[str, Any]) -> list[Post]:
    project = _project(data)
    branch = text_at(data, "ref").removeprefix("refs/heads/").removeprefix("refs/tags/")
    commits = data.get("commits") or []
    if not isinstance(commits, list):
        raise BadPayload("commits must be a list", "commits")
    count = data.get("total_commits_count", len(commits))
    who = text_at(data, "user_username", required=False) or text_at(
        data, "user_name", required=False
    )
    if data.get("object_kind") == "tag_push":
        return [_tag_push(data, project, branch, who)]
    lines = [f"**{who}** pushed {count} commit{'s' * (count != 1)} to {project} `{branch}`"]
    for c in commits[:10]:
        if isinstance(c, dict):
            lines.append(f"- `{str(c.get('id', ''))[:8]}` {short(str(c.get('message', '')), 120)}")
    return [Post("\n".join(lines), f"gitlab:{project}:push:{branch}", {"project": project})]


def _tag_push(data: dict[str, Any], project: str, tag: str, who: str) -> Post:
    """A tag pushed (its `after` is the commit it points at) or deleted (`after` all zeros)."""
    deleted = set(str(data.get("after") or "")) == {"0"}
    verb = "deleted tag `{}` from" if deleted else "pushed tag `{}` to"
    return Post(
        f"**{who}** {verb.format(tag)} {project}",
        f"gitlab:{project}:tag:{tag}",
        {"project": project},
    )


def _merge_request(data: dict[str, Any]) -> list[Post]:
    project = _project(data)
    iid = text_at(data, "object_attributes.iid")
    title = text_at(data, "object_attributes.title")
    action = text_at(data, "object_attributes.action", required=False) or text_at(
        data, "object_attributes.state"
    )
    url = text_at(data, "object_attributes.url", required=False)
    who = text_at(data, "user.username", required=False)
    text = f"**{who}** {action} merge request [{project}!{iid}]({url}): {short(title)}"
    return [Post(text, f"gitlab:{project}:mr:{iid}", {"project": project, "action": action})]


def _pipeline(data: dict[str, Any]) -> list[Post]:
    project = _project(data)
    pipeline = text_at(data, "object_attributes.id")
    status = text_at(data, "object_attributes.status")
    ref = text_at(data, "object_attributes.ref", required=False)
    url = text_at(data, "object_attributes.url", required=False) or text_at(
        data, "project.web_url", required=False
    )
    text = f"pipeline [#{pipeline}]({url}) on {project} `{ref}`: {status}"
    return [
        Post(text, f"gitlab:{project}:pipeline:{pipeline}", {"project": project, "state": status})
    ]


_KINDS = {"push": _push, "tag_push": _push, "merge_request": _merge_request, "pipeline": _pipeline}
