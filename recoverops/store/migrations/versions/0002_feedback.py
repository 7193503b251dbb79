"""Operator feedback on incidents, and each incident's model feature row.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen copies of the store's column types: a migration must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("incidents") as incidents:
        incidents.add_column(sa.Column("features", JSON, nullable=True))

    op.create_table(
        "feedback",
        sa.Column("id", ID, primary_key=True),
        sa.Column("incident_id", ID, nullable=False),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("fix_outcome", sa.String(16), nullable=True),
        sa.Column("operator", sa.String(255), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_feedback_incident_id_incidents",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_feedback_incident_id", "feedback", ["incident_id"])


def downgrade() -> None:
    op.drop_table("feedback")
    with op.batch_alter_table("incidents") as incidents:
        incidents.drop_column("features")
