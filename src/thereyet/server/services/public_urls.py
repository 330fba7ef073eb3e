"""The address people and tools reach the hub at, for the links the hub hands out
(ping URLs, calendar feeds, acknowledge links), so each can be pasted as it is."""

from __future__ import annotations

from sqlalchemy import Connection

from ..config import Settings
from ..store import oncall as settings_store

PUBLIC_URL_KEY = "public_url"  # set with PUT /api/v1/oncall/public-url


def hub_base_url(conn: Connection, settings: Settings) -> str:
    """The address set through the API, else THEREYET_PUBLIC_URL, else where the hub
    listens (right on the hub's own machine only)."""
    found = settings_store.setting(conn, PUBLIC_URL_KEY)
    if found:
        return str(found).rstrip("/")
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return f"http://{settings.host}:{settings.port}"


def ping_url(base: str, ping_uuid: str | None) -> str | None:
    return f"{base}/ping/{ping_uuid}" if ping_uuid else None
