"""LLM answers: the checked answer of the LLM for one failure, by its fingerprint, the model and
the fixes offered, so that a recurring failure costs no request.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# A frozen copy of the store's column type: a migration must not change when the code does.
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "llm_answers",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("model", sa.String(255), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_llm_answers"),
    )


def downgrade() -> None:
    op.drop_table("llm_answers")
