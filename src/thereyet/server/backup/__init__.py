"""Backup and restore of a whole hub: a portable archive of every table.

The archive is a gzip'd tar: `manifest.json` (format, schema revision, tables,
row counts and a SHA-256 per member) and one JSON Lines file per table. The
same archive restores into SQLite or PostgreSQL, so it is also how a hub moves
from one to the other.
"""

from .archive import BackupError, backup, restore

__all__ = ["BackupError", "backup", "restore"]
