"""Scheduled backups: `thereyet server --backup-every 6h --backup-keep 28`.

Every `every`, one hub node writes a backup into `<data dir>/backups/` and
deletes the oldest beyond `keep`. Nodes sharing a database agree on who takes
a turn with one conditional UPDATE of the last backup's time: the node whose
update changed the row makes the backup.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Text, cast, insert, select, update

from ..hub import Hub
from ..store.tables import settings
from ..store.writer import Tx
from .archive import backup_to_file

log = logging.getLogger(__name__)
LAST_KEY = "backup.last_at"
PREFIX = "thereyet-"


class ScheduledBackups:
    """A worker (`tick(now)`): a backup when one is due, then the oldest removed."""

    name = "backups"

    def __init__(self, hub: Hub, every: timedelta, keep: int, directory: Path) -> None:
        self.hub, self.every, self.keep, self.directory = hub, every, keep, directory

    async def tick(self, now: datetime) -> bool:
        """Make the backup due at `now`, if this node wins the turn. True if it made one."""
        if not await self.hub.writer.run(lambda tx: self._claim(tx, now)):
            return False
        path = self.directory / f"{PREFIX}{now.strftime('%Y%m%dT%H%M%SZ')}.tgz"
        # In a thread: a backup takes seconds to minutes and must not hold up the loop.
        await asyncio.to_thread(self._write, path)
        return True

    def _claim(self, tx: Tx, now: datetime) -> bool:
        last = tx.conn.execute(select(settings.c.value).where(settings.c.key == LAST_KEY)).scalar()
        if last is None:
            tx.conn.execute(insert(settings).values(key=LAST_KEY, value=now.isoformat()))
            return True
        if datetime.fromisoformat(last) + self.every > now:
            return False
        claimed = tx.conn.execute(
            update(settings)
            # Compared as text: JSON values have no portable equality in SQL.
            .where(settings.c.key == LAST_KEY, cast(settings.c.value, Text) == json.dumps(last))
            .values(value=now.isoformat())
        )
        return claimed.rowcount == 1

    def _write(self, path: Path) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest = backup_to_file(self.hub.engines.read, path)
        rows = sum(t["rows"] for t in manifest["tables"])
        log.info("scheduled backup written to %s (%d rows)", path, rows)
        for old in sorted(self.directory.glob(f"{PREFIX}*.tgz"))[: -self.keep]:
            old.unlink()
