"""Transcripts: a room's timeline for a time range, as Markdown, self-contained HTML or JSON Lines.

Every message in the range is included, in timeline order (message id), run
cards and notes too. The HTML needs nothing from the hub once saved: styles
are inline, images are embedded as data: URIs, message text is Markdown
rendered with raw HTML off, and a Content-Security-Policy forbids scripts.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from ..domain.access import Principal
from ..domain.media import shown_inline
from ..hub import Hub
from ..markdown import render_markdown
from ..store import rooms as room_store
from ..store import transcripts as store
from .errors import Invalid, NotFound
from .views import message_view

FORMATS = {
    "md": ("text/markdown; charset=utf-8", "md"),
    "html": ("text/html; charset=utf-8", "html"),
    "jsonl": ("application/x-ndjson", "jsonl"),
}
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>~#|])")


@dataclass(frozen=True)
class _Room:
    name: str
    title: str
    since: datetime | None
    until: datetime | None
    exported_at: datetime
    base_url: str


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def message_attachments(view: dict[str, Any]) -> list[dict[str, Any]]:
    """The attachments a message carries in its data (a run's file, or a room upload)."""
    data = view.get("data") or {}
    found = data.get("attachments") or []
    if isinstance(data.get("attachment"), dict):
        found = [data["attachment"], *found]
    return [a for a in found if isinstance(a, dict) and a.get("id") and a.get("url")]


class TranscriptService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def export(
        self,
        who: Principal,
        room: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        fmt: str = "md",
        base_url: str = "",
    ) -> tuple[bytes, str, str]:
        """The transcript as (content, media type, file name).

        `base_url` (say "https://hub.example.org") is put before attachment
        links, so a saved transcript links back to the hub.
        """
        if fmt not in FORMATS:
            raise Invalid("format must be one of md, html, jsonl", field="format")
        if since is not None and until is not None and since >= until:
            raise Invalid("until must be after since", field="until")
        media_type, ext = FORMATS[fmt]
        with self.hub.engines.read.connect() as conn:
            row = room_store.get_room(conn, room)
            if row is None or not who.may_read_room(room):
                raise NotFound(f"no room named {room!r}")
            meta = _Room(room, row.title, since, until, self.hub.clock.now(), base_url.rstrip("/"))
            rows = store.messages_between(conn, row.id, since=since, until=until)
            views = (message_view(r, room) for r in rows)
            if fmt == "jsonl":
                content = "".join(_jsonl(views))
            elif fmt == "md":
                content = _markdown(meta, views)
            else:
                content = _html(conn, meta, views)
        filename = f"{room}-transcript-{meta.exported_at:%Y%m%d-%H%M%S}.{ext}"
        return content.encode(), media_type, filename


def _jsonl(views: Iterable[dict[str, Any]]) -> Iterator[str]:
    for view in views:
        yield json.dumps(view, ensure_ascii=False, separators=(",", ":")) + "\n"


def _range_text(meta: _Room) -> str:
    since = stamp(meta.since) if meta.since else "the beginning"
    until = stamp(meta.until) if meta.until else "now"
    return f"From {since} to {until}; exported {stamp(meta.exported_at)}."


def _markdown(meta: _Room, views: Iterable[dict[str, Any]]) -> str:
    out = [f"# {_md_escape(meta.title)} (#{meta.name})", "", _range_text(meta), ""]
    for view in views:
        out.append(f"**{_md_escape(view['author'])}** · {_when(view)}  ")
        out.append(view["text"])
        for attachment in message_attachments(view):
            link = meta.base_url + attachment["url"]
            out.append(f"- attachment: [{_md_escape(str(attachment.get('name')))}]({link})")
        out.append("")
    return "\n".join(out)


def _md_escape(text: str) -> str:
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def _when(view: dict[str, Any]) -> str:
    return stamp(datetime.fromisoformat(view["created_at"].replace("Z", "+00:00")))


_STYLE = """
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#59636e;--line:#d1d9e0;--card:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--line:#3d444d;--card:#151b23}}
body{font:15px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:52rem;padding:1rem}
h1{font-size:1.4rem;margin:0 0 .25rem}.range{color:var(--muted);margin:0 0 1rem}
article{border-top:1px solid var(--line);padding:.5rem 0;overflow-wrap:anywhere}
article>header{color:var(--muted);font-size:.85rem}article>header strong{color:var(--fg)}
article.kind-run,article.kind-note,article.kind-attachment{background:var(--card);padding:.5rem}
.text p{margin:.25rem 0}pre{overflow-x:auto;background:var(--card);padding:.5rem}
img{max-width:100%;height:auto;display:block;margin:.5rem 0}a{color:#0969da}
"""
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _html(conn: Connection, meta: _Room, views: Iterable[dict[str, Any]]) -> str:
    title = html.escape(f"{meta.title} (#{meta.name})")
    out = [
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}: transcript</title><style>{_STYLE}</style></head><body>",
        f'<header><h1>{title}</h1><p class="range">{html.escape(_range_text(meta))}</p></header>',
        "<main>",
    ]
    for view in views:
        out.append(_html_message(conn, meta, view))
    out.append("</main></body></html>\n")
    return "\n".join(out)


def _html_message(conn: Connection, meta: _Room, view: dict[str, Any]) -> str:
    kind = re.sub(r"[^a-z0-9-]", "", str(view["kind"]))
    parts = [
        f'<article class="kind-{kind}" id="m{int(view["id"])}">',
        f"<header><strong>{html.escape(view['author'])}</strong> · "
        f'<time datetime="{html.escape(view["created_at"])}">{_when(view)}</time></header>',
        f'<div class="text">{render_markdown(view["text"])}</div>',
    ]
    parts.extend(_html_attachment(conn, meta, a) for a in message_attachments(view))
    parts.append("</article>")
    return "\n".join(parts)


def _html_attachment(conn: Connection, meta: _Room, attachment: dict[str, Any]) -> str:
    name = html.escape(str(attachment.get("name") or "attachment"))
    found = store.attachment_content(conn, str(attachment["id"]))
    if found is not None and shown_inline(found.content_type):
        data = base64.b64encode(found.content).decode()
        return f'<figure><img alt="{name}" src="data:{found.content_type};base64,{data}"></figure>'
    link = html.escape(meta.base_url + str(attachment["url"]))
    return f'<p class="attachment">attachment: <a href="{link}">{name}</a></p>'
