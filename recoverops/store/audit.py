"""The audit log: who did what to which subject, appended and never changed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recoverops.store.records import AuditEntry
from recoverops.store.tables import AuditRow


def append(
    session: Session,
    *,
    actor: str,
    verb: str,
    subject: str,
    detail: Mapping[str, Any],
    at: datetime,
) -> int:
    row = AuditRow(at=at, actor=actor, verb=verb, subject=subject, detail=dict(detail))
    session.add(row)
    session.flush()
    return row.id


def entries(
    session: Session,
    *,
    subject: str | None,
    limit: int,
    verb: str | None = None,
    since: datetime | None = None,
) -> list[AuditEntry]:
    """The newest `limit` entries, newest first, optionally about one subject, of one verb, or
    made at or after `since`."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if subject is not None:
        query = query.where(AuditRow.subject == subject)
    if verb is not None:
        query = query.where(AuditRow.verb == verb)
    if since is not None:
        query = query.where(AuditRow.at >= since)
    return [
        AuditEntry(
            id=row.id,
            at=row.at,
            actor=row.actor,
            verb=row.verb,
            subject=row.subject,
            detail=row.detail,
        )
        for row in session.execute(query).scalars()
    ]
