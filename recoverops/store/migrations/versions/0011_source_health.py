"""Source health: per watched stream, the errors its source met and the time up to which it has
read everything, so that /metrics (another process than the sources) reports each source's
errors and lag.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

# A frozen copy of the store's column type: a migration must not change when the code does.
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "source_health",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("stream", sa.String(255), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", WHEN, nullable=True),
        sa.Column("caught_up_to", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("source", "stream", name="pk_source_health"),
    )


def downgrade() -> None:
    op.drop_table("source_health")
