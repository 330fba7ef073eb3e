"""incidents, on-call people, rotations, escalation policies, incident integrations

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from thereyet.server.store.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[Any]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _created() -> sa.Column[Any]:
    return sa.Column("created_at", UTCDateTime(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "oncall_people",
        _id(),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("work_days", _json(), nullable=False),
        sa.Column("work_start", sa.String(length=5), nullable=False),
        sa.Column("work_end", sa.String(length=5), nullable=False),
        sa.Column("rules", _json(), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_people")),
        sa.UniqueConstraint("name", name=op.f("uq_oncall_people_name")),
    )
    op.create_table(
        "contact_methods",
        _id(),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["oncall_people.id"],
            name=op.f("fk_contact_methods_person_id_oncall_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_contact_methods_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_methods")),
        sa.UniqueConstraint("person_id", "name", name="uq_contact_methods_person_name"),
    )
    op.create_table(
        "rotations",
        _id(),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.String(length=10), nullable=False),
        sa.Column("handoff", sa.String(length=5), nullable=False),
        sa.Column("shift_hours", sa.Integer(), nullable=False),
        sa.Column("participants", _json(), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rotations")),
        sa.UniqueConstraint("name", name=op.f("uq_rotations_name")),
    )
    op.create_table(
        "rotation_overrides",
        _id(),
        sa.Column("rotation_id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ["rotation_id"],
            ["rotations.id"],
            name=op.f("fk_rotation_overrides_rotation_id_rotations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rotation_overrides")),
    )
    op.create_index(
        "ix_rotation_overrides_rotation", "rotation_overrides", ["rotation_id", "starts_at"]
    )
    op.create_table(
        "escalation_policies",
        _id(),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("steps", _json(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_escalation_policies_name")),
    )
    op.create_table(
        "incident_services",
        _id(),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("room", sa.String(length=64), nullable=True),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("runbook_url", sa.String(length=2000), nullable=True),
        sa.Column("require_runbook", sa.Integer(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["escalation_policies.id"],
            name=op.f("fk_incident_services_policy_id_escalation_policies"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_services")),
        sa.UniqueConstraint("name", name=op.f("uq_incident_services_name")),
    )
    op.create_table(
        "incident_integrations",
        _id(),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _created(),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["incident_services.id"],
            name=op.f("fk_incident_integrations_service_id_incident_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_integrations")),
        sa.UniqueConstraint("name", name=op.f("uq_incident_integrations_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_incident_integrations_token_hash")),
    )
    op.create_table(
        "job_incident_rules",
        _id(),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("events", _json(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["incident_services.id"],
            name=op.f("fk_job_incident_rules_service_id_incident_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_incident_rules")),
        sa.UniqueConstraint("job", name=op.f("uq_job_incident_rules_job")),
    )
    op.create_table(
        "incidents",
        _id(),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("open_key", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("details", _json(), nullable=False),
        sa.Column("links", _json(), nullable=False),
        sa.Column("images", _json(), nullable=False),
        sa.Column("runbook_url", sa.String(length=2000), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=True),
        sa.Column("job", sa.String(length=64), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("triggered_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=255), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=255), nullable=True),
        sa.Column("paged_through", sa.Integer(), nullable=False),
        sa.Column("next_escalation_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["incident_services.id"],
            name=op.f("fk_incidents_service_id_incident_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("service_id", "open_key", name="uq_incidents_service_open_key"),
    )
    op.create_index("ix_incidents_escalation", "incidents", ["status", "next_escalation_at"])
    op.create_table(
        "incident_events",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_events_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_events")),
    )
    op.create_index("ix_incident_events_incident", "incident_events", ["incident_id", "id"])
    op.create_table(
        "incident_pages",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("out_of_hours", sa.Integer(), nullable=False),
        sa.Column("outbox_ids", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_pages_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_pages")),
    )
    op.create_index("ix_incident_pages_person", "incident_pages", ["person", "at"])
    op.create_index("ix_incident_pages_incident", "incident_pages", ["incident_id"])


def downgrade() -> None:
    for index, table in (
        ("ix_incident_pages_incident", "incident_pages"),
        ("ix_incident_pages_person", "incident_pages"),
        ("ix_incident_events_incident", "incident_events"),
        ("ix_incidents_escalation", "incidents"),
        ("ix_rotation_overrides_rotation", "rotation_overrides"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "incident_pages",
        "incident_events",
        "incidents",
        "job_incident_rules",
        "incident_integrations",
        "incident_services",
        "escalation_policies",
        "rotation_overrides",
        "rotations",
        "contact_methods",
        "oncall_people",
    ):
        op.drop_table(table)
