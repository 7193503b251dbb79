"""Anomaly templates and deploy markers.

`anomaly_templates`: the templates each watched source has printed, with their rate baseline,
so that a restarted source does not take every line for a new template (`recoverops.anomaly`).

`deploys`: the CI runs that deployed something, successful ones too, so that a crash of the
workload they deployed is put down to them (`recoverops.correlation`).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Frozen copies of the store's column types: a migration must not change when the code does.
WHEN = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "anomaly_templates",
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("template_id", sa.String(32), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("first_seen", WHEN, nullable=False),
        sa.Column("last_seen", WHEN, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("source", "template_id", name="pk_anomaly_templates"),
    )
    op.create_table(
        "deploys",
        sa.Column("id", ID, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(255), nullable=False),
        sa.Column("event_id", ID, nullable=True),
        sa.Column("repository", sa.String(512), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("environment", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("hints", JSON, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("incident_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deploys"),
        sa.UniqueConstraint("source", "delivery_id", name="uq_deploys_source_delivery_id"),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_deploys_event_id_events", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_deploys_incident_id_incidents",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_deploys_at", "deploys", ["at"])
    op.create_index("ix_deploys_incident_id", "deploys", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_deploys_incident_id", table_name="deploys")
    op.drop_index("ix_deploys_at", table_name="deploys")
    op.drop_table("deploys")
    op.drop_table("anomaly_templates")
