"""Source positions: where each watching source is in its stream (a Kubernetes resourceVersion),
so that a restarted source resumes from there instead of replaying or missing what happened.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# A frozen copy of the store's column type: a migration must not change when the code does.
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "source_positions",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("stream", sa.String(255), nullable=False),
        sa.Column("position", sa.Text(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("source", "stream", name="pk_source_positions"),
    )


def downgrade() -> None:
    op.drop_table("source_positions")
