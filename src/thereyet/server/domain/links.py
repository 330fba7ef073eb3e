"""Links people click (runbooks, alert links, callbacks): http and https only.

A stored `javascript:` or `data:` URL would run in the hub's origin when someone
clicks it, so wherever a link is stored it must be an absolute http(s) URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

MAX_URL = 2000
WEB_URL_RULE = "must be an absolute http:// or https:// URL with a host"


def url_problem(value: str) -> str | None:
    """Why `value` is not an absolute http(s) URL with a host (None if it is one)."""
    if len(value) > MAX_URL:
        return f"must be at most {MAX_URL} characters"
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as exc:  # an invalid IPv6 literal, say
        return f"is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https") or not host:
        return "must be an http:// or https:// URL with a host"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "must not contain spaces or control characters"
    return None


def web_url_problem(value: object) -> str | None:
    """Why `value` (of any type, as it came in) is not an absolute http(s) URL, or None."""
    if not isinstance(value, str) or not value:
        return WEB_URL_RULE
    return url_problem(value)


def is_web_url(value: object) -> bool:
    """Whether `value` is a string holding an absolute http(s) URL (see url_problem)."""
    return web_url_problem(value) is None


def web_links(links: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The links whose `key` (href, src) is a web URL; the others are dropped."""
    return [link for link in links if isinstance(link, dict) and is_web_url(link.get(key))]
