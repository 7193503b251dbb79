"""Incidents whose log was unavailable are retried: how often, and when next.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# A frozen copy of the store's column type: a migration must not change when the code does.
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("incidents") as incidents:
        incidents.add_column(
            sa.Column("log_retries", sa.Integer(), nullable=False, server_default="0")
        )
        incidents.add_column(sa.Column("log_retry_at", WHEN, nullable=True))
        incidents.create_index("ix_incidents_log_retry_at", ["log_retry_at"])


def downgrade() -> None:
    with op.batch_alter_table("incidents") as incidents:
        incidents.drop_index("ix_incidents_log_retry_at")
        incidents.drop_column("log_retry_at")
        incidents.drop_column("log_retries")
