"""Dead letters: messages given up on after too many attempts, until an operator replays them.

Written by the detector (for either queue backend), read by `GET /dead-letters` and the metrics,
and replayed by `recoverops replay --dead-letters`. A message is dead once per failure streak: a
detector that dies between recording a dead letter and acking the message finds it recorded
when the message comes back, and does not record it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from recoverops.store.records import DeadLetter
from recoverops.store.tables import DeadLetterRow, EventRow


def add(
    session: Session,
    queue: str,
    *,
    key: str,
    payload: Mapping[str, Any],
    attempts: int,
    last_error: str,
    at: datetime,
) -> int:
    """Record the message as dead; the id of its dead letter (an existing one, if recorded)."""
    existing = session.execute(
        select(DeadLetterRow.id).where(
            DeadLetterRow.queue == queue,
            DeadLetterRow.dedup_key == key,
            DeadLetterRow.replayed_at.is_(None),
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    row = DeadLetterRow(
        queue=queue,
        dedup_key=key,
        payload=dict(payload),
        attempts=attempts,
        last_error=last_error,
        dead_at=at,
    )
    session.add(row)
    session.flush()
    return row.id


def waiting(session: Session, *, queue: str | None = None, limit: int = 100) -> list[DeadLetter]:
    """Dead letters not replayed yet, newest first."""
    query = select(DeadLetterRow).where(DeadLetterRow.replayed_at.is_(None))
    if queue is not None:
        query = query.where(DeadLetterRow.queue == queue)
    rows = session.execute(query.order_by(DeadLetterRow.id.desc()).limit(limit)).scalars()
    return [_to_record(row) for row in rows]


def counts(session: Session) -> tuple[int, int]:
    """(every message ever given up on, those not replayed yet)."""
    total, left = session.execute(
        select(func.count(), func.count().filter(DeadLetterRow.replayed_at.is_(None)))
    ).one()
    return int(total), int(left)


def mark_replayed(session: Session, dead_letter_id: int, *, at: datetime) -> bool:
    """Mark it replayed; False when it already was (another replay took it)."""
    marked = session.execute(
        update(DeadLetterRow)
        .where(DeadLetterRow.id == dead_letter_id, DeadLetterRow.replayed_at.is_(None))
        .values(replayed_at=at)
        .returning(DeadLetterRow.id)
    ).scalar_one_or_none()
    return marked is not None


def record_event_error(session: Session, event_id: int, error: str) -> bool:
    """Keep on the event what its latest processing raised; False for an unknown event."""
    marked = session.execute(
        update(EventRow)
        .where(EventRow.id == event_id)
        .values(last_error=error)
        .returning(EventRow.id)
    ).scalar_one_or_none()
    return marked is not None


def _to_record(row: DeadLetterRow) -> DeadLetter:
    return DeadLetter(
        id=row.id,
        queue=row.queue,
        dedup_key=row.dedup_key,
        payload=row.payload,
        attempts=row.attempts,
        last_error=row.last_error,
        dead_at=row.dead_at,
        replayed_at=row.replayed_at,
    )
