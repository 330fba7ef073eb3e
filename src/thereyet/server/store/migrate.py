"""Bring a database to the newest schema; called at every hub start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: hub nodes starting together on PostgreSQL take turns.
_PG_LOCK = 748_300_113


def include_object(obj: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
    """Leave out of schema comparisons what the tables do not describe: the full-text
    indexes made by raw SQL in migration 0002 (SQLite FTS5 tables, a PostgreSQL GIN index)."""
    if kind == "table" and name and name.startswith("messages_fts"):
        return False
    return not (kind == "index" and name == "ix_messages_body_search")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied."""
    cfg = alembic_config()
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK})
            conn.commit()
        try:
            cfg.attributes["connection"] = conn
            # "heads": work on separate features may add migration branches;
            # every branch is applied until a merge revision joins them.
            command.upgrade(cfg, "heads")
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK})
                conn.commit()


def is_current(engine: Engine) -> bool:
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()) == heads
