"""Runs get a version, so a hub can keep running runs in memory and notice changes

Joins the incidents (0004) and ChatOps (0005) branches.

Revision ID: 0006
Revises: 0004, 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = ("0004", "0005")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("version")
