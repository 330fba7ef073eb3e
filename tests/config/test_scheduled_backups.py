"""Scheduled backups (--backup-every, --backup-keep): one per interval, the oldest
removed beyond the count kept, one node per turn when nodes share a database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from thereyet.cli.main import main
from thereyet.server.backup.archive import verify
from thereyet.server.backup.schedule import ScheduledBackups
from thereyet.server.clock import FakeClock
from thereyet.server.config import Settings
from thereyet.server.hub import Hub


async def test_a_backup_every_interval_keeping_the_newest(
    settings: Settings, clock: FakeClock, tmp_path: Path
):
    hub = Hub.open(settings, clock)
    other_node = Hub.open(settings, clock)
    try:
        directory = tmp_path / "backups"
        backups = ScheduledBackups(hub, timedelta(hours=6), 2, directory)
        twin = ScheduledBackups(other_node, timedelta(hours=6), 2, directory)
        assert await backups.tick(clock.now()) is True  # the first one at once
        assert await twin.tick(clock.now()) is False  # the other node's turn is taken
        clock.advance(hours=5)
        assert await backups.tick(clock.now()) is False  # not yet due
        for _ in range(3):
            clock.advance(hours=1, minutes=1)
            assert await twin.tick(clock.now()) is True
            clock.advance(hours=5)
        kept = sorted(p.name for p in directory.glob("*.tgz"))
        assert len(kept) == 2
        assert (
            kept[-1]
            == f"thereyet-{(clock.now() - timedelta(hours=5)).strftime('%Y%m%dT%H%M%SZ')}.tgz"
        )
        assert verify(directory / kept[-1])["format"] == "thereyet-backup/1"
    finally:
        other_node.close()
        hub.close()


def test_server_refuses_a_backup_interval_it_cannot_read(tmp_path: Path, capsys):  # type: ignore[no-untyped-def]
    assert main(["server", "--data-dir", str(tmp_path), "--backup-every", "often"]) == 2
    assert "--backup-every: not a duration: 'often'" in capsys.readouterr().err
