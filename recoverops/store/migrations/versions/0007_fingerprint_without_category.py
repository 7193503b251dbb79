"""Fingerprints without the category: an incident keeps its grouping across model swaps.

The first fingerprints hashed target, category and the failure chunk's template ids; the category
can come from a learned model, so a new champion split one recurring failure into two
incidents. Fingerprints are now target and template ids (`recoverops.incidents.fingerprint`).
Each stored incident whose templates can be recomputed from its evidence (verified: they give
its stored fingerprint back) gets the new fingerprint, so the failures it groups keep landing
on it. Where two incidents were one failure split by a category change, the one seen last takes
the new fingerprint and the other keeps its history under the old one. Incidents whose log was
never analyzed keep theirs: new ones are told apart by job run instead, as they should have been.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from alembic import op

from recoverops.logs.templates import mask, template_id

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_incidents = sa.table(
    "incidents",
    sa.column("id", sa.BigInteger()),
    sa.column("fingerprint", sa.String()),
    sa.column("target", sa.String()),
    sa.column("category", sa.String()),
    sa.column("last_seen", sa.DateTime(timezone=True)),
    sa.column("evidence", sa.JSON()),
)


# Frozen copies of both schemes: a migration must not change when the code does.
def _hash(parts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _first(target: str, category: str, templates: list[str]) -> str:
    return _hash((target, category, *templates))


def _second(target: str, templates: list[str]) -> str:
    return _hash(("v2", target, *templates))


def _templates(evidence: Any) -> list[str]:
    texts = [e.get("text") for e in evidence or [] if isinstance(e, dict)]
    return sorted({template_id(mask(text)) for text in texts if isinstance(text, str)})


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_incidents).order_by(_incidents.c.id)).all()
    newest: dict[str, Any] = {}
    for row in rows:
        templates = _templates(row.evidence)
        if not templates or _first(row.target, row.category, templates) != row.fingerprint:
            continue  # no log analyzed, or templates that do not give the fingerprint back
        new = _second(row.target, templates)
        kept = newest.get(new)
        if kept is None or (row.last_seen, row.id) > (kept.last_seen, kept.id):
            newest[new] = row
    for new, row in newest.items():
        bind.execute(sa.update(_incidents).where(_incidents.c.id == row.id).values(fingerprint=new))


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_incidents).order_by(_incidents.c.id)).all()
    taken = {row.fingerprint for row in rows}
    for row in rows:
        templates = _templates(row.evidence)
        if not templates or _second(row.target, templates) != row.fingerprint:
            continue
        old = _first(row.target, row.category, templates)
        if old not in taken:  # else the incident it was split from holds it: keep the new one
            taken.add(old)
            bind.execute(
                sa.update(_incidents).where(_incidents.c.id == row.id).values(fingerprint=old)
            )
