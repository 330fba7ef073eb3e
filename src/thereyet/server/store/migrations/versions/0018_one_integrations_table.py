"""One table for every inbound integration, and the deliveries each received

The alert sources (PagerDuty, Alertmanager, generic) move from
`incident_integrations` into `integrations`, which now names its kind in `kind`
(formerly `format`) and posts either to a room or to a service. Token hashes move
as they are (both tables kept a SHA-256 of the token), so every sender keeps
working unchanged. A name both tables used gets the kind as a suffix on the alert
source. `integration_deliveries` keeps each integration's last deliveries.

Revision ID: 0018
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from thereyet.server.store.types import UTCDateTime

revision = "0018"
down_revision = "0015"
branch_labels = None
depends_on = None

_OLD = sa.table(
    "incident_integrations",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("service_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("token_hash", sa.String),
    sa.column("created_at", UTCDateTime()),
    sa.column("revoked_at", UTCDateTime()),
)
_NEW = sa.table(
    "integrations",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
    sa.column("room_id", sa.Integer),
    sa.column("service_id", sa.Integer),
    sa.column("token_hash", sa.String),
    sa.column("owner", sa.String),
    sa.column("rejected", sa.Integer),
    sa.column("created_at", UTCDateTime()),
    sa.column("revoked_at", UTCDateTime()),
)
MIGRATED_OWNER = "admin"  # the old table did not record who made an alert source


_SEEN = sa.table(
    "hook_deliveries",
    sa.column("integration_id", sa.Integer),
    sa.column("delivery_id", sa.String),
    sa.column("created_at", UTCDateTime()),
)


def upgrade() -> None:
    # SQLite rebuilds the table; its DROP would cascade to the redelivery memory.
    seen = [dict(r._mapping) for r in op.get_bind().execute(sa.select(_SEEN))]
    with op.batch_alter_table("integrations") as batch:
        batch.alter_column("format", new_column_name="kind", existing_type=sa.String(16))
        batch.alter_column("room_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("service_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("revoked_at", UTCDateTime(), nullable=True))
        batch.create_foreign_key(
            "fk_integrations_service_id_incident_services",
            "incident_services",
            ["service_id"],
            ["id"],
            ondelete="CASCADE",
        )
    if seen and not op.get_bind().execute(sa.select(_SEEN).limit(1)).first():
        op.get_bind().execute(sa.insert(_SEEN), seen)
    _move_alert_sources()
    op.drop_table("incident_integrations")
    op.create_table(
        "integration_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("summary", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name="fk_integration_deliveries_integration_id_integrations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_integration_deliveries"),
    )
    op.create_index(
        "ix_integration_deliveries_integration_id",
        "integration_deliveries",
        ["integration_id", "id"],
    )


def _move_alert_sources() -> None:
    conn = op.get_bind()
    taken = set(conn.execute(sa.select(_NEW.c.name)).scalars())
    for row in conn.execute(sa.select(_OLD).order_by(_OLD.c.id)).all():
        name = row.name
        if name in taken:
            name = f"{row.name[:50]}-{row.kind}"
        while name in taken:
            name = f"{row.name[:40]}-{row.kind}-{row.id}"
        taken.add(name)
        conn.execute(
            sa.insert(_NEW).values(
                name=name,
                kind=row.kind,
                room_id=None,
                service_id=row.service_id,
                token_hash=row.token_hash,
                owner=MIGRATED_OWNER,
                rejected=0,
                created_at=row.created_at,
                revoked_at=row.revoked_at,
            )
        )


def downgrade() -> None:
    op.drop_index("ix_integration_deliveries_integration_id", "integration_deliveries")
    op.drop_table("integration_deliveries")
    op.create_table(
        "incident_integrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["incident_services.id"],
            name="fk_incident_integrations_service_id_incident_services",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_incident_integrations"),
        sa.UniqueConstraint("name", name="uq_incident_integrations_name"),
        sa.UniqueConstraint("token_hash", name="uq_incident_integrations_token_hash"),
    )
    conn = op.get_bind()
    alert_sources = sa.select(_NEW).where(_NEW.c.service_id.is_not(None))
    for row in conn.execute(alert_sources).all():
        conn.execute(
            sa.insert(_OLD).values(
                name=row.name,
                service_id=row.service_id,
                kind=row.kind,
                token_hash=row.token_hash,
                created_at=row.created_at,
                revoked_at=row.revoked_at,
            )
        )
    conn.execute(sa.delete(_NEW).where(_NEW.c.service_id.is_not(None)))
    with op.batch_alter_table("integrations") as batch:
        batch.drop_constraint("fk_integrations_service_id_incident_services", type_="foreignkey")
        batch.drop_column("revoked_at")
        batch.drop_column("service_id")
        batch.alter_column("room_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("kind", new_column_name="format", existing_type=sa.String(16))
