"""A Slack-style message kept as a card and shown as Slack shows it.

`card_of(data)` keeps what Slack would show of an incoming-webhook payload (text,
attachments with their colour bar, author, title and link, text, fields and
footer; Block Kit header, section with fields, context, divider, image and
rich_text), bounded in size, for the message's data. `card_html(card)` renders it
for the room: every string is escaped, mrkdwn goes through slack_mrkdwn, and
images from other sites are shown as links (opening a room tells no third party
who reads it, as with images in Markdown messages).
"""

from __future__ import annotations

import html
import re
from typing import Any

from . import slack_mrkdwn as mrkdwn

MAX_ITEMS = 50  # attachments, blocks, fields, elements: each list is cut here
MAX_TEXT = 3_000  # Slack's own limit for a section's text
COLORS = {"good": "#2eb886", "warning": "#daa038", "danger": "#a30200"}
_HEX = re.compile(r"^#?([0-9a-f]{3}|[0-9a-f]{6})$", re.I)
_ATTACHMENT_KEYS = (
    "pretext",
    "author_name",
    "author_link",
    "title",
    "title_link",
    "text",
    "fallback",
    "image_url",
    "footer",
)


def color(value: Any) -> str | None:
    """A CSS colour for Slack's good/warning/danger or a hex colour; None otherwise."""
    if not isinstance(value, str):
        return None
    if value in COLORS:
        return COLORS[value]
    found = _HEX.match(value.strip())
    return f"#{found.group(1)}" if found else None


def _text(value: Any) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def _items(value: Any) -> list[dict[str, Any]]:
    return [v for v in value[:MAX_ITEMS] if isinstance(v, dict)] if isinstance(value, list) else []


def card_of(data: dict[str, Any]) -> dict[str, Any]:
    """The parts of a Slack payload that are shown, bounded; strings and lists only."""
    attachments = []
    for a in _items(data.get("attachments")):
        kept: dict[str, Any] = {key: _text(a.get(key)) for key in _ATTACHMENT_KEYS if a.get(key)}
        kept["color"] = color(a.get("color"))
        kept["fields"] = [
            {
                "title": _text(f.get("title")),
                "value": _text(f.get("value")),
                "short": bool(f.get("short")),
            }
            for f in _items(a.get("fields"))
        ]
        attachments.append(kept)
    return {
        "text": _text(data.get("text")),
        "attachments": attachments,
        "blocks": [_block(b) for b in _items(data.get("blocks"))],
    }


def _text_object(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    kind = "plain_text" if value.get("type") == "plain_text" else "mrkdwn"
    return {"type": kind, "text": _text(value.get("text"))}


def _image(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict) or value.get("type") != "image":
        return None
    title = _text_object(value.get("title"))
    return {
        "type": "image",
        "image_url": _text(value.get("image_url")),
        "alt_text": _text(value.get("alt_text")),
        "title": title["text"] if title else "",
    }


def _block(b: dict[str, Any]) -> dict[str, Any]:
    kind = b.get("type")
    if kind in ("header", "section"):
        return {
            "type": kind,
            "text": _text_object(b.get("text")),
            "fields": [t for f in _items(b.get("fields")) if (t := _text_object(f))],
            "accessory": _image(b.get("accessory")),
        }
    if kind == "context":
        elements = [_image(e) or _text_object(e) for e in _items(b.get("elements"))]
        return {"type": kind, "elements": [e for e in elements if e]}
    if kind == "image":
        return _image(b) or {"type": "image"}
    if kind == "rich_text":
        return {"type": kind, "text": _rich_text(b)}
    return {"type": "divider" if kind == "divider" else "other"}


def _rich_text(b: dict[str, Any]) -> str:
    """A rich_text block (what Slack's own composer sends) as the same mrkdwn."""
    lines = []
    for part in _items(b.get("elements")):
        inner = "".join(_rich_element(e) for e in _items(part.get("elements")))
        kind = part.get("type")
        if kind == "rich_text_preformatted":
            inner = f"```{inner}```"
        elif kind == "rich_text_quote":
            inner = "\n".join(f"&gt;{line}" for line in inner.split("\n"))
        elif kind == "rich_text_list":
            inner = "\n".join(
                "• " + "".join(_rich_element(e) for e in _items(item.get("elements")))
                for item in _items(part.get("elements"))
            )
        lines.append(inner)
    return "\n".join(lines)[:MAX_TEXT]


def _rich_element(e: dict[str, Any]) -> str:
    kind = e.get("type")
    if kind == "text":
        text = _text(e.get("text"))
        style: dict[str, Any] = e["style"] if isinstance(e.get("style"), dict) else {}
        for flag, mark in (("code", "`"), ("bold", "*"), ("italic", "_"), ("strike", "~")):
            if style.get(flag) and text.strip():
                text = f"{mark}{text}{mark}"
        return text
    if kind == "link":
        url = _text(e.get("url"))
        return f"<{url}|{_text(e.get('text'))}>" if e.get("text") else f"<{url}>"
    if kind == "emoji":
        return f":{_text(e.get('name'))}:"
    if kind == "user":
        return f"<@{_text(e.get('user_id'))}>"
    if kind == "channel":
        return f"<#{_text(e.get('channel_id'))}>"
    if kind == "broadcast":
        return f"<!{_text(e.get('range'))}>"
    return ""


# -- rendering --------------------------------------------------------------------------


def card_html(card: dict[str, Any]) -> str:
    """The card as an HTML fragment, as Slack lays it out."""
    parts = []
    if card.get("text"):
        parts.append(f'<div class="slack-text">{mrkdwn.to_html(card["text"])}</div>')
    parts += [_block_html(b) for b in card.get("blocks") or []]
    parts += [_attachment_html(a) for a in card.get("attachments") or []]
    return f'<div class="slack">{"".join(parts)}</div>'


def _shown(value: dict[str, str] | None) -> str:
    if not value or not value.get("text"):
        return ""
    if value.get("type") == "plain_text":
        return html.escape(mrkdwn.emojize(value["text"]))
    return mrkdwn.to_html(value["text"])


def _link(url: str, shown: str) -> str:
    if not re.match(r"^https?://", url, re.I):
        return shown
    href = html.escape(url, quote=True)
    return f'<a href="{href}" rel="nofollow noopener noreferrer">{shown}</a>'


def _image_html(image: dict[str, str] | None) -> str:
    if not image or not image.get("image_url"):
        return ""
    label = html.escape(image.get("title") or image.get("alt_text") or "image")
    return f'<div class="slack-image">🖼 {_link(image["image_url"], label)}</div>'


def _fields_html(fields: list[str]) -> str:
    if not fields:
        return ""
    return f'<div class="slack-fields">{"".join(fields)}</div>'


def _block_html(b: dict[str, Any]) -> str:
    kind = b.get("type")
    if kind == "header":
        return f'<div class="slack-header">{_shown(b.get("text"))}</div>'
    if kind == "section":
        fields = [f'<div class="slack-field">{_shown(f)}</div>' for f in b.get("fields") or []]
        text = _shown(b.get("text"))
        body = (f"<div>{text}</div>" if text else "") + _fields_html(fields)
        return f'<div class="slack-section">{body}{_image_html(b.get("accessory"))}</div>'
    if kind == "context":
        shown = [
            html.escape(e.get("alt_text") or "") if e.get("type") == "image" else _shown(e)
            for e in b.get("elements") or []
        ]
        return f'<div class="slack-context">{" ".join(s for s in shown if s)}</div>'
    if kind == "divider":
        return '<hr class="slack-divider">'
    if kind == "image":
        return _image_html(b)
    if kind == "rich_text":
        return f'<div class="slack-section">{mrkdwn.to_html(b.get("text") or "")}</div>'
    return ""


def _attachment_html(a: dict[str, Any]) -> str:
    parts = []
    if a.get("pretext"):
        parts.append(f'<div class="slack-pretext">{mrkdwn.to_html(a["pretext"])}</div>')
    if a.get("author_name"):
        author = html.escape(a["author_name"])
        parts.append(f'<div class="slack-author">{_link(a.get("author_link", ""), author)}</div>')
    if a.get("title"):
        title = mrkdwn.inline_html(a["title"])
        parts.append(f'<div class="slack-title">{_link(a.get("title_link", ""), title)}</div>')
    text = a.get("text") or ("" if a.get("title") else a.get("fallback", ""))
    if text:
        parts.append(f"<div>{mrkdwn.to_html(text)}</div>")
    fields = [
        f'<div class="slack-field{"" if f["short"] else " slack-wide"}">'
        f"<strong>{html.escape(f['title'])}</strong><div>{mrkdwn.to_html(f['value'])}</div></div>"
        for f in a.get("fields") or []
    ]
    parts.append(_fields_html(fields))
    parts.append(_image_html({"image_url": a.get("image_url", ""), "title": ""}))
    if a.get("footer"):
        parts.append(f'<div class="slack-context">{mrkdwn.to_html(a["footer"])}</div>')
    bar = f' style="border-left-color: {a["color"]}"' if a.get("color") else ""
    return f'<div class="slack-attachment"{bar}>{"".join(parts)}</div>'
