"""A logging handler that posts records at or above a level as messages in a room."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from . import state
from .runs import clean_name


class RoomHandler(logging.Handler):
    """`logging.getLogger().addHandler(RoomHandler("ops"))`: warnings and errors go to #ops.

    Records are queued for the sender thread; emitting never blocks or raises.
    The SDK's own records (logger "thereyet") are never sent, to avoid loops.
    """

    def __init__(self, room: str, level: int = logging.WARNING, sender: Any = None) -> None:
        super().__init__(level)
        self.room = clean_name(room)
        self._sender = sender
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "thereyet" or record.name.startswith("thereyet."):
            return
        try:
            sender = self._sender if self._sender is not None else state.sender()
            if sender is not None:
                sender.post_message(self.room, self.format(record), uuid.uuid4().hex)
                sender.wake()
        except Exception:
            self.handleError(record)
