"""How each watched stream is doing: its source's errors and the time up to which it has read
everything (`source_health`, migration 0011). Written by the sources, read by /metrics."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from recoverops.store.tables import SourceHealthRow

MAX_ERROR = 500  # characters of the last error kept


def _row(session: Session, source: str, stream: str) -> SourceHealthRow:
    row = session.get(SourceHealthRow, (source, stream))
    if row is None:
        row = SourceHealthRow(source=source, stream=stream, errors=0)
        session.add(row)
    return row


def caught_up(session: Session, *, source: str, stream: str, to: datetime) -> None:
    _row(session, source, stream).caught_up_to = to


def failed(session: Session, *, source: str, stream: str, error: str, at: datetime) -> None:
    row = _row(session, source, stream)
    row.errors = (row.errors or 0) + 1
    row.last_error = error[:MAX_ERROR]
    row.last_error_at = at


def every(session: Session) -> list[tuple[str, str, int, datetime | None]]:
    """(source, stream, errors, caught_up_to) of every stream, in source and stream order."""
    rows = session.execute(
        select(
            SourceHealthRow.source,
            SourceHealthRow.stream,
            SourceHealthRow.errors,
            SourceHealthRow.caught_up_to,
        ).order_by(SourceHealthRow.source, SourceHealthRow.stream)
    )
    return [(source, stream, errors, to) for source, stream, errors, to in rows]
