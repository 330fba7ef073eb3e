"""Rendering pages: one Jinja environment, autoescaped, with the hub's formatters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from ...domain.cards import format_count, format_duration
from ...domain.links import is_web_url
from ...domain.media import shown_inline
from ...integrations.inbound.slack_card import card_html
from ...markdown import render_markdown
from .nav import navigation
from .tones import tone

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))
TEMPLATES.env.filters["duration"] = format_duration
TEMPLATES.env.filters["count"] = format_count
TEMPLATES.env.tests["shown_inline"] = shown_inline
TEMPLATES.env.tests["web_url"] = is_web_url  # links stored before URLs were checked
TEMPLATES.env.filters["tone"] = tone
TEMPLATES.env.globals["navigation"] = navigation

SECURITY_HEADERS = {
    # Our own scripts and styles only; images may be attachments served by the hub.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    context = {"status": status, **context}  # the error page's heading
    response = TEMPLATES.TemplateResponse(request, template, context, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def _message_html(view: dict[str, Any]) -> str:
    """A Slack-style message as Slack shows it; any other as Markdown."""
    card = (view.get("data") or {}).get("slack")
    return card_html(card) if isinstance(card, dict) else render_markdown(view["text"])


def message_display(view: dict[str, Any]) -> dict[str, Any]:
    """Add what a page shows of a message: sanitized HTML, a short time, its file."""
    return {
        **view,
        "html": _message_html(view),
        "time": view["created_at"][11:16] + " UTC",
        "attachment": (view.get("data") or {}).get("attachment"),
    }
