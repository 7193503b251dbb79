"""Remediation: what each action needs beyond 0001's columns, and an append-only audit log.

The actions table gains the system, environment and reason of an action, the policy's decision,
its result, its deadlines, when it started and finished, and the remediator's lease on it. The
audit log refuses UPDATE and DELETE (a trigger on both databases): append-only by construction.

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copies of the store's column types: a migration must not change when the code does.
WHEN = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

_PG_FUNCTION = """
CREATE FUNCTION recoverops_audit_log_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    with op.batch_alter_table("actions") as actions:
        actions.add_column(sa.Column("system", sa.String(32), server_default="", nullable=False))
        actions.add_column(
            sa.Column("environment", sa.String(64), server_default="default", nullable=False)
        )
        actions.add_column(sa.Column("reason", sa.Text(), server_default="", nullable=False))
        actions.add_column(sa.Column("decision", JSON, nullable=True))
        actions.add_column(sa.Column("result", JSON, nullable=True))
        actions.add_column(
            sa.Column("validate_within_s", sa.Float(), server_default="60", nullable=False)
        )
        for column in (
            "approval_deadline",
            "validate_deadline",
            "started_at",
            "finished_at",
            "claimed_until",
        ):
            actions.add_column(sa.Column(column, WHEN, nullable=True))
        actions.add_column(sa.Column("claimed_by", sa.String(255), nullable=True))
        actions.create_index("ix_actions_target_started_at", ["target", "started_at"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION recoverops_audit_log_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION recoverops_audit_log_append_only()")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER audit_log_no_{verb}")
    with op.batch_alter_table("actions") as actions:
        actions.drop_index("ix_actions_target_started_at")
        for column in (
            "claimed_by",
            "claimed_until",
            "finished_at",
            "started_at",
            "validate_deadline",
            "approval_deadline",
            "validate_within_s",
            "result",
            "decision",
            "reason",
            "environment",
            "system",
        ):
            actions.drop_column(column)
