"""Token buckets kept in the database, one row per key, shared by every hub node."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..domain.ratelimit import Bucket
from .tables import rate_buckets


def lock_bucket(conn: Connection, key: str, full: float, now: datetime) -> Bucket:
    """The bucket for `key` (made full if new), locked until the transaction ends.

    PostgreSQL only: the row lock makes each node's take wait for the other's."""
    new = pg_insert(rate_buckets).values(key=key, tokens=full, at=now)
    conn.execute(new.on_conflict_do_nothing(index_elements=["key"]))
    query = select(rate_buckets.c.tokens, rate_buckets.c.at).where(rate_buckets.c.key == key)
    row = conn.execute(query.with_for_update()).one()
    return Bucket(row.tokens, row.at)


def save_bucket(conn: Connection, key: str, bucket: Bucket) -> None:
    conn.execute(
        update(rate_buckets)
        .where(rate_buckets.c.key == key)
        .values(tokens=bucket.tokens, at=bucket.at)
    )
