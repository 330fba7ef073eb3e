"""Many rows in few statements, on SQLite.

The sqlite3 module makes an executemany one row at a time, and lets go of the
interpreter lock around each row: the hub's writer thread then has to win the
lock back from the event loop once per row, and under load each of those waits
took longer than the row. A group of a hundred pings inserted a few hundred
rows that way. Here the rows go in as multi-row VALUES statements of a few
fixed sizes (so the module's statement cache keeps a handful of texts): one
hand-over of the lock per statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

CHUNKS = (64, 16, 4, 1)  # rows per statement; 64 rows of the widest table stay far
# below SQLite's limit of 32,766 parameters a statement


def insert_rows(
    cursor: Any, head: str, row_marks: str, rows: Sequence[Sequence[Any]], tail: str = ""
) -> None:
    """Run `head` + n x `row_marks` + `tail` over `rows`, in order, in as few statements
    as CHUNKS allow: head "INSERT INTO t (a, b) VALUES ", row_marks "(?, ?)"."""
    start = 0
    for size in CHUNKS:
        statement = head + ", ".join([row_marks] * size) + tail
        while len(rows) - start >= size:
            cursor.execute(
                statement, [value for row in rows[start : start + size] for value in row]
            )
            start += size
