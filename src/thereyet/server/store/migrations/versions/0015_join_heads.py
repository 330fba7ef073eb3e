"""Joins the branches of this release: login failures (0008), node leases (0010),
configuration as code (0011), run ETAs (0012), the ping short path (0013) and ping
URLs for every job (0014). No schema change of its own.

Revision ID: 0015
Revises: 0008, 0010, 0011, 0012, 0013, 0014
"""

from __future__ import annotations

revision = "0015"
down_revision = ("0008", "0010", "0011", "0012", "0013", "0014")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
