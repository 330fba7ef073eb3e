"""Joins the branches of this release: agents (0016a) and one integrations table
(0018). No schema change of its own.

Revision ID: 0019
Revises: 0016a, 0018
"""

from __future__ import annotations

revision = "0019"
down_revision = ("0016a", "0018")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
