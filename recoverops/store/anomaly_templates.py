"""The anomaly model's templates, per watched source (`recoverops.anomaly`): loaded when a
source's model is made, saved as it learns, dropped when the model forgets them."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recoverops.store.records import StoredTemplate
from recoverops.store.tables import AnomalyTemplateRow


def recent(session: Session, *, source: str, limit: int) -> list[StoredTemplate]:
    """The `limit` most recently seen templates of `source`, least recent first."""
    rows = session.execute(
        select(AnomalyTemplateRow)
        .where(AnomalyTemplateRow.source == source)
        .order_by(AnomalyTemplateRow.last_seen.desc(), AnomalyTemplateRow.template_id)
        .limit(limit)
    ).scalars()
    found = [
        StoredTemplate(
            template_id=row.template_id,
            template=row.template,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            count=row.count,
            baseline=row.baseline,
        )
        for row in rows
    ]
    return found[::-1]


def save(
    session: Session, *, source: str, templates: Sequence[StoredTemplate], forget: Collection[str]
) -> None:
    """Write `templates` (by id, replacing what is stored) and drop the ids in `forget`."""
    if forget:
        session.execute(
            delete(AnomalyTemplateRow).where(
                AnomalyTemplateRow.source == source,
                AnomalyTemplateRow.template_id.in_(list(forget)),
            )
        )
    for template in templates:
        row = session.get(AnomalyTemplateRow, (source, template.template_id))
        if row is None:
            session.add(
                AnomalyTemplateRow(
                    source=source,
                    template_id=template.template_id,
                    template=template.template,
                    first_seen=template.first_seen,
                    last_seen=template.last_seen,
                    count=template.count,
                    baseline=template.baseline,
                )
            )
        else:
            row.template = template.template
            row.first_seen = min(row.first_seen, template.first_seen)
            row.last_seen = max(row.last_seen, template.last_seen)
            row.count = template.count
            row.baseline = template.baseline
