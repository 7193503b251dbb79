"""The initial schema: events, incidents, timeline, actions, audit log, outbox.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the store's column types: a migration must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", ID, primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_seen", WHEN, nullable=False),
        sa.Column("last_seen", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("analysis", JSON, nullable=True),
        sa.Column("evidence", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("fingerprint", name="uq_incidents_fingerprint"),
    )
    for column in ("target", "category", "source", "status"):
        op.create_index(f"ix_incidents_{column}", "incidents", [column])
    op.create_index("ix_incidents_first_seen_id", "incidents", ["first_seen", "id"])

    op.create_table(
        "events",
        sa.Column("id", ID, primary_key=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("delivery_id", sa.String(255), nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("payload_ref", sa.Text(), nullable=False),
        sa.Column("payload", JSON, nullable=True),
        sa.Column("processed_at", WHEN, nullable=True),
        sa.Column("incident_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("source", "delivery_id", name="uq_events_source_delivery_id"),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_events_incident_id_incidents"
        ),
    )

    op.create_table(
        "timeline_entries",
        sa.Column("id", ID, primary_key=True),
        sa.Column("incident_id", ID, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_timeline_entries"),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_timeline_entries_incident_id_incidents",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_timeline_entries_incident_id_at", "timeline_entries", ["incident_id", "at"])

    op.create_table(
        "actions",
        sa.Column("id", ID, primary_key=True),
        sa.Column("action_key", sa.String(255), nullable=False),
        sa.Column("incident_id", ID, nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("risk", sa.String(16), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("decided_by", sa.String(255), nullable=True),
        sa.Column("snapshot", JSON, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_actions"),
        sa.UniqueConstraint("action_key", name="uq_actions_action_key"),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_actions_incident_id_incidents",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_actions_incident_id", "actions", ["incident_id"])
    op.create_index("ix_actions_status", "actions", ["status"])

    op.create_table(
        "audit_log",
        sa.Column("id", ID, primary_key=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("verb", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])

    op.create_table(
        "outbox",
        sa.Column("id", ID, primary_key=True),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("dedup_key", sa.String(255), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("enqueued_at", WHEN, nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        sa.Column("claimed_until", WHEN, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("queue", "dedup_key", name="uq_outbox_queue_dedup_key"),
    )
    op.create_index("ix_outbox_queue_claimed_until", "outbox", ["queue", "claimed_until"])


def downgrade() -> None:
    for table in ("outbox", "audit_log", "actions", "timeline_entries", "events", "incidents"):
        op.drop_table(table)
