"""Many rows in few statements on SQLite (store/many_rows.py): every row, in order."""

from __future__ import annotations

import sqlite3

import pytest

from thereyet.server.store.many_rows import CHUNKS, insert_rows


@pytest.mark.parametrize("count", [0, 1, 3, 4, 5, 16, 21, 64, 85, 200])
def test_every_row_goes_in_once_and_in_order(count: int):
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, a INT, b TEXT)")
    statements: list[str] = []
    db.set_trace_callback(statements.append)
    rows = [(n, f"row {n}") for n in range(count)]
    insert_rows(db.cursor(), "INSERT INTO t (a, b) VALUES ", "(?, ?)", rows)
    db.set_trace_callback(None)
    assert db.execute("SELECT a, b FROM t ORDER BY seq").fetchall() == rows
    # As few statements as the fixed sizes allow (64 + 16 + 4 + 1 = 85 rows is 4).
    expected, left = 0, count
    for size in CHUNKS:
        expected, left = expected + left // size, left % size
    assert len(statements) == expected


def test_a_conflict_clause_applies_to_every_row_of_a_statement():
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INT)")
    rows = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)]
    insert_rows(
        db.cursor(), "INSERT INTO t (k, v) VALUES ", "(?, ?)", rows, " ON CONFLICT (k) DO NOTHING"
    )
    assert db.execute("SELECT k, v FROM t ORDER BY k").fetchall() == [("a", 1), ("b", 2), ("c", 4)]
