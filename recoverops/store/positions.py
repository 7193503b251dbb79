"""Positions of the watching sources: one opaque string per (source, stream), overwritten.

A Kubernetes watch keeps its resourceVersion here; reading None means "never watched: list".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recoverops.store.tables import SourcePositionRow


def get(session: Session, *, source: str, stream: str) -> str | None:
    return session.execute(
        select(SourcePositionRow.position).where(
            SourcePositionRow.source == source, SourcePositionRow.stream == stream
        )
    ).scalar_one_or_none()


def save(session: Session, *, source: str, stream: str, position: str, at: datetime) -> None:
    row = session.get(SourcePositionRow, (source, stream))
    if row is None:
        session.add(
            SourcePositionRow(source=source, stream=stream, position=position, updated_at=at)
        )
    else:
        row.position = position
        row.updated_at = at


def forget(session: Session, *, source: str, stream: str) -> None:
    session.execute(
        delete(SourcePositionRow).where(
            SourcePositionRow.source == source, SourcePositionRow.stream == stream
        )
    )


def every(session: Session) -> list[tuple[str, str, str, datetime]]:
    """(source, stream, position, updated_at) of every stream, in source and stream order."""
    rows = session.execute(
        select(
            SourcePositionRow.source,
            SourcePositionRow.stream,
            SourcePositionRow.position,
            SourcePositionRow.updated_at,
        ).order_by(SourcePositionRow.source, SourcePositionRow.stream)
    )
    return [(source, stream, position, at) for source, stream, position, at in rows]
