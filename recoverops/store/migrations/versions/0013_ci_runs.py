"""CI runs: the commit, branch, job and outcome of each run the webhooks report, passing runs
too, so that a failure's history can say flaky (it passed on the same commit) or broken trunk
(the same failure on the default branch), and which passing run to compare it with.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Frozen copies of the store's column types: a migration must not change when the code does.
WHEN = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ci_runs",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("commit_sha", sa.String(64), nullable=True),
        sa.Column("branch", sa.String(255), nullable=True),
        sa.Column("default_branch", sa.String(255), nullable=True),
        sa.Column("run_key", sa.String(255), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("log_project", sa.String(255), nullable=True),
        sa.Column("log_job", sa.String(255), nullable=True),
        sa.Column("tests", DOCUMENT, nullable=True),
        sa.Column("finished_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_ci_runs_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ci_runs"),
        sa.UniqueConstraint("event_id", name="uq_ci_runs_event_id"),
    )
    op.create_index("ix_ci_runs_target_finished_at", "ci_runs", ["target", "finished_at"])
    op.create_index("ix_ci_runs_commit_sha", "ci_runs", ["commit_sha"])


def downgrade() -> None:
    op.drop_index("ix_ci_runs_commit_sha", table_name="ci_runs")
    op.drop_index("ix_ci_runs_target_finished_at", table_name="ci_runs")
    op.drop_table("ci_runs")
