"""Every job has its ping URL from the moment it exists: jobs made before get one now

Revision ID: 0014
Revises: 0006
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    jobs = sa.table("jobs", sa.column("id", sa.Integer), sa.column("ping_uuid", sa.String))
    conn = op.get_bind()
    missing = conn.execute(sa.select(jobs.c.id).where(jobs.c.ping_uuid.is_(None))).scalars()
    for job_id in list(missing):
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(ping_uuid=str(uuid.uuid4())))


def downgrade() -> None:
    """Nothing to undo: a ping URL given to an old job stays valid."""
