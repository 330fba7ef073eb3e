"""Agents and the runs they take

Revision ID: 0016a
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from thereyet.server.store.types import JSONType, UTCDateTime

revision = "0016a"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("tags", JSONType, nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("node", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_agents")),
    )
    op.create_table(
        "agent_work",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("target", JSONType, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("bound", sa.String(length=64), nullable=True),
        sa.Column("group_id", sa.String(length=64), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("retry_of", sa.String(length=64), nullable=True),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("cancel", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_agent_work")),
    )
    op.create_index("ix_agent_work_state", "agent_work", ["state", "not_before"])
    op.create_index("ix_agent_work_agent", "agent_work", ["agent", "state"])


def downgrade() -> None:
    op.drop_index("ix_agent_work_agent", table_name="agent_work")
    op.drop_index("ix_agent_work_state", table_name="agent_work")
    op.drop_table("agent_work")
    op.drop_table("agents")
