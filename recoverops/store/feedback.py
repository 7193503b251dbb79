"""Operator feedback: the category an operator confirmed or corrected, and whether the fix worked.

Feedback is what the models retrain on (`labelled_incidents`), and what the retrainer counts to
decide when enough new labels arrived (`watermark`, `count_labelled_after`). Each feedback is
also written to the incident's timeline, so the operator's word shows beside what the system did,
and to the audit log (verb `incident.feedback`, subject `incident:<id>`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import ColumnElement, Subquery, func, select
from sqlalchemy.orm import Session

from recoverops.errors import NotFoundError
from recoverops.incidents import Source
from recoverops.store import audit
from recoverops.store.incidents import append_timeline
from recoverops.store.records import FeedbackRecord, LabelledIncident
from recoverops.store.tables import FeedbackRow, IncidentRow
from recoverops.taxonomy import Category

FIX_OUTCOMES: Final = ("worked", "failed")
STAGE_FEEDBACK: Final = "feedback"
AUDIT_VERB: Final = "incident.feedback"
MAX_OPERATOR_CHARS: Final = 255


def validate(*, category: Category | None, fix_outcome: str | None, operator: str) -> str:
    """The operator's name, stripped; ValueError saying what is wrong with the feedback."""
    if fix_outcome is not None and fix_outcome not in FIX_OUTCOMES:
        raise ValueError(
            f"fix_outcome must be one of {', '.join(FIX_OUTCOMES)}, not {fix_outcome!r}"
        )
    if category is None and fix_outcome is None:
        raise ValueError("feedback must give a category, a fix_outcome, or both")
    name = operator.strip()
    if not name:
        raise ValueError("operator must name who gives the feedback")
    if len(name) > MAX_OPERATOR_CHARS:
        raise ValueError(f"operator must be at most {MAX_OPERATOR_CHARS} characters")
    return name


def add(
    session: Session,
    incident_id: int,
    *,
    category: Category | None,
    fix_outcome: str | None,
    operator: str,
    note: str,
    at: datetime,
) -> FeedbackRecord:
    name = validate(category=category, fix_outcome=fix_outcome, operator=operator)
    incident = session.get(IncidentRow, incident_id)
    if incident is None:
        raise NotFoundError(f"no incident {incident_id}")
    row = FeedbackRow(
        incident_id=incident_id,
        category=None if category is None else category.value,
        fix_outcome=fix_outcome,
        operator=name,
        note=note,
        created_at=at,
    )
    session.add(row)
    detail = _timeline_detail(row, detected=incident.category)
    append_timeline(session, incident_id, at=at, stage=STAGE_FEEDBACK, detail=detail)
    session.flush()
    record = _record(row)
    audit.append(
        session,
        actor=name,
        verb=AUDIT_VERB,
        subject=f"incident:{incident_id}",
        detail={"feedback_id": row.id, "category": row.category, "fix_outcome": fix_outcome},
        at=at,
    )
    return record


def watermark(session: Session) -> int:
    newest: int | None = session.execute(select(func.max(FeedbackRow.id))).scalar_one()
    return newest or 0


def count_labelled_after(session: Session, feedback_id: int) -> int:
    count: int = session.execute(
        select(func.count())
        .select_from(FeedbackRow)
        .where(FeedbackRow.id > feedback_id, FeedbackRow.category.is_not(None))
    ).scalar_one()
    return count


def labelled_incidents(session: Session) -> list[LabelledIncident]:
    """Every incident with a category from an operator, oldest incident first.

    The label is the category of the incident's latest feedback that gave one: feedback that
    only reports a fix outcome does not unlabel an incident, and a later correction wins.
    """
    latest_label = _latest_id_where(FeedbackRow.category.is_not(None))
    latest_outcome = _latest_id_where(FeedbackRow.fix_outcome.is_not(None))
    outcome = select(FeedbackRow.id, FeedbackRow.fix_outcome).subquery()
    rows = session.execute(
        select(IncidentRow, FeedbackRow.category, outcome.c.fix_outcome)
        .join(latest_label, latest_label.c.incident_id == IncidentRow.id)
        .join(FeedbackRow, FeedbackRow.id == latest_label.c.id)
        .outerjoin(latest_outcome, latest_outcome.c.incident_id == IncidentRow.id)
        .outerjoin(outcome, outcome.c.id == latest_outcome.c.id)
        .order_by(IncidentRow.id)
    ).all()
    return [
        LabelledIncident(
            incident_id=incident.id,
            target=incident.target,
            source=Source(incident.source),
            features=incident.features,
            label=Category(label),
            fix_outcome=fix_outcome,
        )
        for incident, label, fix_outcome in rows
    ]


def _latest_id_where(condition: ColumnElement[bool]) -> Subquery:
    # (incident_id, the id of its newest feedback row meeting `condition`)
    return (
        select(FeedbackRow.incident_id, func.max(FeedbackRow.id).label("id"))
        .where(condition)
        .group_by(FeedbackRow.incident_id)
        .subquery()
    )


def _timeline_detail(row: FeedbackRow, *, detected: str) -> str:
    parts = []
    if row.category is not None:
        verdict = "confirmed" if row.category == detected else f"corrected {detected} to"
        parts.append(f"{verdict} {row.category}")
    if row.fix_outcome is not None:
        parts.append(f"fix {row.fix_outcome}")
    said = f": {row.note}" if row.note else ""
    return f"{row.operator} {', '.join(parts)}{said}"


def _record(row: FeedbackRow) -> FeedbackRecord:
    return FeedbackRecord(
        id=row.id,
        incident_id=row.incident_id,
        category=None if row.category is None else Category(row.category),
        fix_outcome=row.fix_outcome,
        operator=row.operator,
        note=row.note,
        created_at=row.created_at,
    )
