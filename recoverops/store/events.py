"""Events as received: stored once per (source, delivery_id)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recoverops.incidents import Event, Source
from recoverops.store.insert_or_ignore import insert_or_ignore
from recoverops.store.records import EventAdded, StoredEvent
from recoverops.store.tables import EventRow


def add_event(session: Session, event: Event, *, payload: Any) -> EventAdded:
    new_id = insert_or_ignore(
        session,
        EventRow.id,
        {
            "source": event.source.value,
            "kind": event.kind,
            "delivery_id": event.delivery_id,
            "received_at": event.received_at,
            "payload_ref": event.payload_ref,
            "payload": payload,
        },
        unique_columns=("source", "delivery_id"),
    )
    if new_id is not None:
        return EventAdded(new_id, created=True)
    existing = session.execute(
        select(EventRow.id).where(
            EventRow.source == event.source.value, EventRow.delivery_id == event.delivery_id
        )
    ).scalar_one()
    return EventAdded(existing, created=False)


def get_event(session: Session, event_id: int) -> StoredEvent | None:
    row = session.get(EventRow, event_id)
    return None if row is None else to_stored_event(row)


def find_event(session: Session, *, source: Source, delivery_id: str) -> StoredEvent | None:
    row = session.execute(
        select(EventRow).where(EventRow.source == source.value, EventRow.delivery_id == delivery_id)
    ).scalar_one_or_none()
    return None if row is None else to_stored_event(row)


def latest_of_incident(session: Session, incident_id: int) -> StoredEvent | None:
    """The newest event that was an occurrence of the incident (None: none was stored)."""
    row = session.execute(
        select(EventRow)
        .where(EventRow.incident_id == incident_id)
        .order_by(EventRow.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if row is None else to_stored_event(row)


def mark_processed(
    session: Session, event_id: int, *, at: datetime, incident_id: int | None
) -> bool:
    """Mark the event done; False when it already was (so the caller's work was a repeat)."""
    marked = session.execute(
        update(EventRow)
        .where(EventRow.id == event_id, EventRow.processed_at.is_(None))
        .values(processed_at=at, incident_id=incident_id)
        .returning(EventRow.id)
    ).scalar_one_or_none()
    return marked is not None


def to_stored_event(row: EventRow) -> StoredEvent:
    return StoredEvent(
        id=row.id,
        source=Source(row.source),
        kind=row.kind,
        delivery_id=row.delivery_id,
        received_at=row.received_at,
        payload_ref=row.payload_ref,
        payload=row.payload,
        processed_at=row.processed_at,
        incident_id=row.incident_id,
        last_error=row.last_error,
    )
