"""Token buckets kept in the database, one row per key, shared by every hub node.

PostgreSQL only. A group of takes costs two statements whatever its size: one
that makes the missing buckets full and locks them all, in key order, and one
that writes them back. Both go through the driver's own cursor, so that a
group's save can wait in a pipeline (store.pipeline) for the group's inserts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection

from ..domain.ratelimit import Bucket
from .pipeline import execute, fetch, planned_afresh

# A new key's bucket is made full; an existing one is "updated" to itself, which
# locks its row and returns what it holds. Keys are taken in order so that two
# nodes' groups lock shared buckets in the same order.
_LOCK = (
    "INSERT INTO rate_buckets AS b (key, tokens, at) "
    "SELECT k, %s, %s FROM unnest(%s::text[]) AS k ORDER BY k "
    "ON CONFLICT (key) DO UPDATE SET tokens = b.tokens "
    "RETURNING b.key, b.tokens, b.at"
)
# Planned afresh (store.pipeline): prepared while the table was small, its plan read every
# bucket in each group however many there came to be (bench/ping.py, 100,000 checks: 1 ms
# a group, the most of any statement).
_SAVE = planned_afresh(
    "UPDATE rate_buckets AS b SET tokens = v.tokens, at = v.at "
    "FROM unnest(%s::text[], %s::float8[], %s::timestamptz[]) AS v(key, tokens, at) "
    "WHERE b.key = v.key"
)


def lock_buckets(
    conn: Connection, keys: Sequence[str], full: float, now: datetime
) -> dict[str, Bucket]:
    """The buckets of `keys` (made full if new), locked until the transaction ends:
    the row locks make each node's take wait for the other's."""
    found = fetch(conn, _LOCK, (full, now, sorted(set(keys))))
    return {row[0]: Bucket(row[1], row[2]) for row in found}


def save_buckets(conn: Connection, buckets: Mapping[str, Bucket]) -> None:
    """Write the buckets back, in one statement (in a pipeline, sent with the next)."""
    keys = sorted(buckets)
    tokens = [buckets[k].tokens for k in keys]
    execute(conn, _SAVE, (keys, tokens, [buckets[k].at for k in keys]))
