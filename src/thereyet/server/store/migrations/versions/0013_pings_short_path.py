"""Pings: indexes for a job's open and recent runs and open incidents, routine cards,
the last status

Revision ID: 0013
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("room_cards", sa.String(16), nullable=True))
        batch.add_column(sa.Column("last_status", sa.String(16), nullable=True))
    op.create_index("ix_runs_job_status", "runs", ["job_id", "status", "finished_at"])
    op.create_index("ix_incidents_job_open", "incidents", ["job", "open_key"])


def downgrade() -> None:
    op.drop_index("ix_incidents_job_open", table_name="incidents")
    op.drop_index("ix_runs_job_status", table_name="runs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("last_status")
        batch.drop_column("room_cards")
