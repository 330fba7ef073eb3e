"""An agent name belongs to a credential: the token an agent token is made for one
agent name (`tokens.agent`), and the credential that holds each agent's name
(`agents.holder`).

Revision ID: 0020a
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020a"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tokens", sa.Column("agent", sa.String(length=64), nullable=True))
    op.add_column("agents", sa.Column("holder", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("holder")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("agent")
