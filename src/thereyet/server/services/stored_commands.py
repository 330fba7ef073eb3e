"""ChatOps commands kept in the database, so every hub node reads the same ones.

`thereyet apply` writes them (the `[commands.NAME]` tables of the configuration).
A `commands.toml` in the data directory is still read, for one release, with a
deprecation warning: its commands count where the database has none of that name.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select

from ..hub import Hub
from ..store.tables import chat_commands
from .command_config import CommandFile, CommandSpec, ConfigError, _spec

log = logging.getLogger(__name__)


class StoredCommands:
    """The commands the database holds, merged over a legacy commands file."""

    def __init__(self, hub: Hub, legacy: CommandFile) -> None:
        self.hub = hub
        self.legacy = legacy
        self.error: str | None = None
        self._stamp: Any = None
        self._stored: dict[str, CommandSpec] = {}
        self._warned = False

    def commands(self) -> dict[str, CommandSpec]:
        found = dict(self.legacy.commands())
        if found and not self._warned:
            self._warned = True
            log.warning(
                "%s is deprecated: move its commands into the configuration "
                "([commands.NAME] tables) and run `thereyet apply`",
                self.legacy.path,
            )
        self.error = self.legacy.error
        found.update(self._from_database())
        return found

    def _from_database(self) -> dict[str, CommandSpec]:
        # One cheap query tells whether anything changed since the last read.
        with self.hub.engines.read.connect() as conn:
            stamp = conn.execute(select(func.count(), func.max(chat_commands.c.updated_at))).first()
            if stamp == self._stamp:
                return self._stored
            rows = list(conn.execute(select(chat_commands)))
        stored = {}
        for row in rows:
            try:
                stored[row.name] = _spec(f"commands.{row.name}", row.name, dict(row.spec))
            except ConfigError as exc:  # checked by plan; kept out rather than break the rest
                log.error("stored command %s not loaded: %s", row.name, exc)
        self._stamp, self._stored = stamp, stored
        return stored
