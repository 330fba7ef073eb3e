"""Slack-compatible incoming webhooks (JSON or `payload=` form), as Mattermost, Rocket.Chat,
Alertmanager `slack_configs`, Grafana and Apprise `mmost://` send them.

The message's text is Markdown made from the payload's mrkdwn (for search,
transcripts and chat); the payload itself is kept as a card (slack_card) that
the room shows as Slack would. Alertmanager's titles
(`[FIRING:1] DiskFull`, `[RESOLVED] DiskFull`) put a problem and its recovery
in one thread.
"""

from __future__ import annotations

import re
from typing import Any

from . import slack_mrkdwn
from .common import BadPayload, Headers, Parsed, Post, read_json_or_form
from .slack_card import card_of

_STATE = re.compile(r"^\[(FIRING|RESOLVED)(?::\d+)?\]\s*", re.IGNORECASE)
MAX_TEXT = 20_000


def verify(headers: Headers, body: bytes, secret: str | None) -> None:
    """The token in the URL is the credential; nothing more is signed."""


def parse(headers: Headers, body: bytes) -> Parsed:
    data = _read(headers, body)
    parts = [_mrkdwn(data.get("text"))]
    attachments = _list(data, "attachments")
    blocks = _list(data, "blocks")
    parts += [_attachment(a, f"attachments.{i}") for i, a in enumerate(attachments)]
    parts += [_block(b, f"blocks.{i}") for i, b in enumerate(blocks)]
    text = "\n".join(p for p in parts if p).strip()
    if not text:
        raise BadPayload(
            'nothing to post: send "text" (or "attachments" or "blocks"), '
            'e.g. {"text": "Deploy finished"}',
            "text",
        )
    thread = None
    title = next((a.get("title") for a in attachments if isinstance(a.get("title"), str)), None)
    if data.get("thread_ts"):
        thread = f"slack:{data['thread_ts']}"
    elif title and _STATE.match(title):
        thread = "slack:" + _STATE.sub("", title).strip()
    extra: dict[str, Any] = {}
    if isinstance(data.get("username"), str):
        extra["username"] = data["username"][:100]
    colors = [a["color"] for a in attachments if isinstance(a.get("color"), str)]
    if colors:
        extra["color"] = colors[0][:20]
    extra["slack"] = card_of(data)
    return Parsed([Post(text[:MAX_TEXT], thread, extra)])


def _read(headers: Headers, body: bytes) -> dict[str, Any]:
    """The payload; a JSON body sent as a form (`curl -d '{...}'` without a content
    type, which Slack accepts too) is read as JSON."""
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded" and body.lstrip()[:1] == b"{":
        return read_json_or_form({"content-type": "application/json"}, body)
    return read_json_or_form(headers, body)


def _list(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadPayload(f"{key} must be a list of objects", key)
    return value


def _mrkdwn(value: Any) -> str:
    """Slack's mrkdwn as Markdown."""
    if not isinstance(value, str):
        return ""
    return slack_mrkdwn.to_markdown(value)


def _attachment(a: dict[str, Any], where: str) -> str:
    lines = [_mrkdwn(a.get("pretext"))]
    title = _mrkdwn(a.get("title"))
    if title and isinstance(a.get("title_link"), str):
        title = f"[{title}]({a['title_link']})"
    if title:
        lines.append(f"**{title}**")
    lines.append(_mrkdwn(a.get("text")) or ("" if title else _mrkdwn(a.get("fallback"))))
    fields = a.get("fields") or []
    if not isinstance(fields, list):
        raise BadPayload(f"{where}.fields must be a list", f"{where}.fields")
    for f in fields:
        if isinstance(f, dict) and (f.get("title") or f.get("value")):
            lines.append(f"- {_mrkdwn(f.get('title'))}: {_mrkdwn(f.get('value'))}")
    return "\n".join(line for line in lines if line)


def _block(b: dict[str, Any], where: str) -> str:
    kind = b.get("type")
    if kind == "divider":
        return "---"
    if kind == "header":
        return f"**{_text_object(b.get('text'))}**"
    if kind == "context":
        elements = _items(b, "elements", where)
        return " · ".join(_text_object(e) for e in elements if isinstance(e, dict))
    if kind == "section":
        lines = [_text_object(b.get("text"))]
        lines += [_text_object(f) for f in _items(b, "fields", where) if isinstance(f, dict)]
        return "\n".join(line for line in lines if line)
    if kind == "image":
        return _text_object(b.get("title")) or _mrkdwn(b.get("alt_text"))
    if kind == "rich_text":
        return _mrkdwn(card_of({"blocks": [b]})["blocks"][0]["text"])
    if kind is None:
        raise BadPayload(f"{where}.type is missing", f"{where}.type")
    return ""  # actions, inputs: nothing to read


def _items(b: dict[str, Any], key: str, where: str) -> list[Any]:
    items = b.get(key) or []
    if not isinstance(items, list):
        raise BadPayload(f"{where}.{key} must be a list", f"{where}.{key}")
    return items


def _text_object(value: Any) -> str:
    if isinstance(value, dict):
        return _mrkdwn(value.get("text"))
    return _mrkdwn(value)
