"""Files attached to runs and rooms: size-checked, kept in the database."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from ..store import attachments as store
from ..store.writer import Tx
from .errors import Invalid, TooLarge
from .views import attachment_view


def check_attachment(content: bytes, limit: int) -> None:
    """Refuse an empty file or one over `limit` bytes, before it reaches the writer."""
    if not content:
        raise Invalid("the body is empty: send the file's bytes as the body", field="body")
    if len(content) > limit:
        raise TooLarge(f"attachment is larger than {limit} bytes", field="body")


def stable_id(scope: str, client_id: str) -> str:
    """The attachment id a client's own id maps to, so that a retried upload is found again."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"thereyet:{scope}:{client_id}").hex


def save_attachment(
    tx: Tx,
    *,
    name: str,
    content_type: str,
    content: bytes,
    run_id: str | None = None,
    room_id: int | None = None,
    attachment_id: str | None = None,
) -> dict[str, Any]:
    """Store the file and return its view (with the URL it is served at)."""
    attachment_id = attachment_id or uuid.uuid4().hex
    store.insert_attachment(
        tx.conn,
        id=attachment_id,
        run_id=run_id,
        room_id=room_id,
        name=name,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        created_at=tx.now,
    )
    return attachment_view(store.get_attachment(tx.conn, attachment_id))
