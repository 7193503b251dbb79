"""Reading the store's history: counts, stage times, unprocessed events, related incidents.

What the metrics, the analyzer and the source actors ask of the past. Every query is bounded
(by a limit, or by walking the primary key from a known point), so none scans a table that
only grows.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoverops.incidents import Source
from recoverops.store.events import to_stored_event
from recoverops.store.incidents import to_stored_incident
from recoverops.store.records import StoredEvent, StoredIncident
from recoverops.store.tables import AuditRow, EventRow, IncidentRow

# The detail key a stage's audit entry keeps its start time under (ISO 8601, with its zone).
STARTED_AT = "started_at"


def incident_counts(session: Session) -> dict[tuple[str, str], int]:
    """Incidents by (category, status)."""
    query = select(IncidentRow.category, IncidentRow.status, func.count()).group_by(
        IncidentRow.category, IncidentRow.status
    )
    return {(category, status): int(count) for category, status, count in session.execute(query)}


def detection_times(
    session: Session, *, since: datetime, limit: int
) -> list[tuple[datetime, datetime]]:
    """(received_at, processed_at) of the newest `limit` events that produced an incident and
    were processed at or after `since`, newest first.

    Walks the primary key backwards, so the cost is the recent events, not the table.
    """
    rows = session.execute(
        select(EventRow.received_at, EventRow.processed_at)
        .where(EventRow.incident_id.is_not(None), EventRow.processed_at.is_not(None))
        .order_by(EventRow.id.desc())
        .limit(limit)
    ).all()
    return [
        (received, processed)
        for received, processed in rows
        if processed is not None and processed >= since
    ]


def stage_times(
    session: Session, *, verb: str, since: datetime, limit: int
) -> list[tuple[datetime, datetime]]:
    """(started_at, at) of the newest `limit` audit entries of `verb` made at or after `since`
    whose detail says when the stage started, newest first."""
    rows = session.execute(
        select(AuditRow.at, AuditRow.detail)
        .where(AuditRow.verb == verb, AuditRow.at >= since)
        .order_by(AuditRow.id.desc())
        .limit(limit)
    ).all()
    times: list[tuple[datetime, datetime]] = []
    for at, detail in rows:
        started = detail.get(STARTED_AT) if isinstance(detail, dict) else None
        if not isinstance(started, str):
            continue
        try:
            start = datetime.fromisoformat(started)
        except ValueError:
            continue
        if start.tzinfo is not None:
            times.append((start, at))
    return times


def unprocessed_events(
    session: Session, *, source: Source, after_id: int, limit: int
) -> list[StoredEvent]:
    """Events of `source` with an id above `after_id` not processed yet, oldest first."""
    rows = session.execute(
        select(EventRow)
        .where(
            EventRow.source == source.value,
            EventRow.id > after_id,
            EventRow.processed_at.is_(None),
        )
        .order_by(EventRow.id)
        .limit(limit)
    ).scalars()
    return [to_stored_event(row) for row in rows]


def newest_event_id(session: Session, *, source: Source, received_before: datetime) -> int | None:
    """The highest id of an event of `source` received before `received_before`.

    Walks the primary key backwards from the newest event, so it reads only the events received
    since `received_before`.
    """
    found = session.execute(
        select(EventRow.id)
        .where(EventRow.source == source.value, EventRow.received_at < received_before)
        .order_by(EventRow.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if found is None else int(found)


def incident_targets(session: Session, *, category: str, limit: int) -> list[str]:
    """Up to `limit` distinct targets with an incident of `category`."""
    rows = session.execute(
        select(IncidentRow.target)
        .where(IncidentRow.category == category)
        .group_by(IncidentRow.target)
        .order_by(func.max(IncidentRow.last_seen).desc())
        .limit(limit)
    ).scalars()
    return list(rows)


def incidents_by_fingerprint(
    session: Session, fingerprints: Collection[str]
) -> list[StoredIncident]:
    """The incidents with these fingerprints, most recently seen first."""
    if not fingerprints:
        return []
    rows = session.execute(
        select(IncidentRow)
        .where(IncidentRow.fingerprint.in_(list(fingerprints)))
        .order_by(IncidentRow.last_seen.desc(), IncidentRow.id.desc())
    ).scalars()
    return [to_stored_incident(row) for row in rows]
