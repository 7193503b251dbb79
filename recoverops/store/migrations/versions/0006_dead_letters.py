"""Dead letters: messages that failed `RECOVEROPS_MAX_ATTEMPTS` times, kept with their last error.

An event also keeps the last error its processing raised (`events.last_error`), so a failure
that is retried says why on the event, and a dead letter can quote it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Frozen copies of the store's column types: a migration must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("events") as events:
        events.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    op.create_table(
        "dead_letters",
        sa.Column("id", ID, primary_key=True),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("dedup_key", sa.String(255), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("dead_at", WHEN, nullable=False),
        sa.Column("replayed_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_index("ix_dead_letters_queue_replayed_at", "dead_letters", ["queue", "replayed_at"])


def downgrade() -> None:
    op.drop_index("ix_dead_letters_queue_replayed_at", table_name="dead_letters")
    op.drop_table("dead_letters")
    with op.batch_alter_table("events") as events:
        events.drop_column("last_error")
