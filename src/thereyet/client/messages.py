"""Messages in rooms: `thereyet.say("ops", "backup done")`."""

from __future__ import annotations

import os
import uuid
from typing import Any

from . import state
from .runs import clean_name


def file_item(path: str | os.PathLike[str], name: str | None = None) -> dict[str, Any]:
    import mimetypes

    full = os.path.abspath(os.fspath(path))
    kind = mimetypes.guess_type(full)[0] or "application/octet-stream"
    # The id makes the upload repeat-safe: a retry finds the file already stored.
    return {
        "path": full,
        "name": name or os.path.basename(full),
        "content_type": kind,
        "id": uuid.uuid4().hex,
    }


def say(room: str, text: str, *, attach: str | os.PathLike[str] | None = None) -> None:
    """Post `text` in `room`, with a file if `attach` is given. Queued; never blocks.

    Call `thereyet.flush()` to wait for delivery.
    """
    sender = state.sender()
    if sender is None:
        return
    item = file_item(attach) if attach is not None else None
    sender.post_message(clean_name(room), str(text), uuid.uuid4().hex, item)
    sender.wake()
