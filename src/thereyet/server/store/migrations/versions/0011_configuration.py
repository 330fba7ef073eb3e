"""Configuration as code: which objects came from which file, and ChatOps commands

Commands move from each node's commands.toml into the database, so every hub
node reads the same ones.

Revision ID: 0011
Revises: 0006
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from thereyet.server.store.types import UTCDateTime

revision = "0011"
down_revision = "0006"
branch_labels = None
depends_on = None


def _json() -> Any:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "config_objects",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("file", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("refs", _json(), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "name", name="pk_config_objects"),
    )
    op.create_table(
        "chat_commands",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("spec", _json(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_chat_commands"),
    )


def downgrade() -> None:
    op.drop_table("chat_commands")
    op.drop_table("config_objects")
