"""Hub nodes and their heartbeats, step order in the outbox, catch-up policies,
the node running a chat command, and rate limits shared by every node

Revision ID: 0010
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from thereyet.server.store.types import UTCDateTime

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_nodes",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_hub_nodes")),
    )
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_buckets")),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("sequence", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("step", sa.Integer(), nullable=True))
        batch.create_index("ix_outbox_sequence", ["sequence", "step"])
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("catch_up", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("catch_up_limit", sa.Integer(), nullable=True))
    with op.batch_alter_table("command_runs") as batch:
        batch.add_column(sa.Column("node", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("command_runs") as batch:
        batch.drop_column("node")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("catch_up_limit")
        batch.drop_column("catch_up")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_sequence")
        batch.drop_column("step")
        batch.drop_column("sequence")
    op.drop_table("rate_buckets")
    op.drop_table("hub_nodes")
