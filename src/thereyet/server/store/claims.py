"""Claims that never wait for another node: the rows no other transaction holds.

With several hub nodes on PostgreSQL, each node's writer commits a group of
changes at once, in whatever order they were handed in. Two groups that update
the same rows in different orders deadlock (the database aborts one group, and
every change in it). A worker's claim therefore takes only rows nobody else
holds: `id IN (SELECT id ... FOR UPDATE SKIP LOCKED)`. A row another node holds
is skipped, not waited for: that node is taking it, or it is free again at the
next tick. On SQLite there is one writer, nothing is ever locked, and the
clause reads as a plain sub-select.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, select


def unlocked(table: Table, *conditions: Any) -> ColumnElement[bool]:
    """A WHERE clause: the row matches `conditions` and no other transaction holds it."""
    (key,) = table.primary_key.columns
    rows = select(key).where(*conditions).with_for_update(skip_locked=True).correlate(None)
    return key.in_(rows.scalar_subquery())
