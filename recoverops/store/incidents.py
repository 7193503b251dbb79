"""Incidents grouped by fingerprint, with their timelines; the lifecycle rules are the domain's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from recoverops.incidents import Incident, IncidentStatus, Source, TimelineEntry
from recoverops.store.insert_or_ignore import insert_or_ignore
from recoverops.store.records import IncidentUpsert, StoredIncident
from recoverops.store.tables import EventRow, IncidentRow, TimelineRow
from recoverops.taxonomy import Category

# Timeline stages the store writes itself; status changes use the status value as the stage.
STAGE_DETECTED = "open"
STAGE_RECURRED = "recurred"


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One sighting of a failure, as the detector reports it."""

    fingerprint: str
    target: str
    category: Category
    source: Source
    seen_at: datetime
    event_id: int | None
    analysis: dict[str, Any] | None
    evidence: list[dict[str, Any]]
    features: dict[str, Any] | None = None


def record_occurrence(session: Session, occurrence: Occurrence, *, now: datetime) -> IncidentUpsert:
    """Open the incident or count the occurrence on it, exactly once per event."""
    if occurrence.event_id is not None:
        done = _already_processed(session, occurrence.event_id)
        if done is not None:
            return IncidentUpsert(to_stored_incident(done), created=False, counted=False)

    new_id = insert_or_ignore(
        session,
        IncidentRow.id,
        {
            "fingerprint": occurrence.fingerprint,
            "target": occurrence.target,
            "category": occurrence.category.value,
            "source": occurrence.source.value,
            "status": IncidentStatus.OPEN.value,
            "occurrences": 1,
            "first_seen": occurrence.seen_at,
            "last_seen": occurrence.seen_at,
            "updated_at": now,
            "analysis": occurrence.analysis,
            "evidence": occurrence.evidence,
            "features": occurrence.features,
        },
        unique_columns=("fingerprint",),
    )
    if new_id is not None:
        row = session.get_one(IncidentRow, new_id)
        _append(session, row.id, at=occurrence.seen_at, stage=STAGE_DETECTED, detail="detected")
    else:
        row = _recur(session, occurrence, now=now)

    if occurrence.event_id is not None:
        event = session.get_one(EventRow, occurrence.event_id)
        event.processed_at = now
        event.incident_id = row.id
    session.flush()
    return IncidentUpsert(to_stored_incident(row), created=new_id is not None, counted=True)


def move(
    session: Session, incident_id: int, status: IncidentStatus, *, detail: str, at: datetime
) -> StoredIncident | None:
    """Move the incident to `status` if the domain allows it (else InvalidTransitionError)."""
    row = session.execute(_locked(IncidentRow.id == incident_id)).scalar_one_or_none()
    if row is None:
        return None
    moved = _to_domain(row).moved_to(status, detail=detail, at=at)
    row.status = moved.status.value
    row.updated_at = at
    if moved.status is IncidentStatus.LOGS_UNAVAILABLE:  # a new wait gets all its tries
        row.log_retries = 0
        row.log_retry_at = None
    _append_entries(session, row.id, moved.timeline)
    session.flush()
    return to_stored_incident(row)


def get(session: Session, incident_id: int) -> StoredIncident | None:
    row = session.get(IncidentRow, incident_id)
    return None if row is None else to_stored_incident(row)


def timeline(session: Session, incident_id: int) -> list[TimelineEntry]:
    rows = session.execute(
        select(TimelineRow)
        .where(TimelineRow.incident_id == incident_id)
        .order_by(TimelineRow.at, TimelineRow.id)
    ).scalars()
    return [TimelineEntry(at=row.at, stage=row.stage, detail=row.detail) for row in rows]


def to_stored_incident(row: IncidentRow) -> StoredIncident:
    return StoredIncident(
        id=row.id,
        fingerprint=row.fingerprint,
        target=row.target,
        category=Category(row.category),
        source=Source(row.source),
        status=IncidentStatus(row.status),
        occurrences=row.occurrences,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        updated_at=row.updated_at,
        analysis=row.analysis,
        evidence=tuple(row.evidence),
        features=row.features,
    )


def _already_processed(session: Session, event_id: int) -> IncidentRow | None:
    # Locking the event makes two workers holding the same event (a reclaimed queue entry whose
    # first consumer is still alive) take turns; the second then sees it processed.
    event = session.execute(
        select(EventRow).where(EventRow.id == event_id).with_for_update()
    ).scalar_one_or_none()
    if event is None:
        raise ValueError(f"no event with id {event_id}: store the event before its incident")
    if event.processed_at is None or event.incident_id is None:
        return None
    return session.get_one(IncidentRow, event.incident_id)


def _recur(session: Session, occurrence: Occurrence, *, now: datetime) -> IncidentRow:
    row = session.execute(_locked(IncidentRow.fingerprint == occurrence.fingerprint)).scalar_one()
    before = _to_domain(row)
    after = before.recurred(at=occurrence.seen_at)
    row.occurrences = after.occurrences
    row.status = after.status.value
    row.last_seen = max(row.last_seen, occurrence.seen_at)
    row.updated_at = now
    recategorized = occurrence.analysis is not None and row.category != occurrence.category.value
    if occurrence.analysis is not None:
        row.analysis = occurrence.analysis
        row.evidence = occurrence.evidence
        # The fingerprint leaves the category out, so the same failure can come back with
        # another verdict (a new champion model): the incident takes the latest.
        row.category = occurrence.category.value
    if occurrence.features is not None:
        # An occurrence whose log could not be read keeps the last analyzed one's features.
        row.features = occurrence.features
    if row.status == IncidentStatus.LOGS_UNAVAILABLE.value:
        # The job run was delivered again (a replay): its log gets a full schedule of tries.
        row.log_retries = 0
        row.log_retry_at = None
    if after.timeline:
        _append_entries(session, row.id, after.timeline)  # the domain's own "reopened" entry
    else:
        detail = f"occurrence {after.occurrences}"
        if recategorized:
            detail += f", now {occurrence.category.value}"
        _append(session, row.id, at=occurrence.seen_at, stage=STAGE_RECURRED, detail=detail)
    return row


def _locked(condition: Any) -> Select[IncidentRow]:
    return select(IncidentRow).where(condition).with_for_update()


def _to_domain(row: IncidentRow) -> Incident:
    # The timeline is left out: the domain only appends to it, and we store what it appended.
    return Incident(
        fingerprint=row.fingerprint,
        target=row.target,
        category=Category(row.category),
        status=IncidentStatus(row.status),
        occurrences=row.occurrences,
    )


def _append_entries(session: Session, incident_id: int, entries: tuple[TimelineEntry, ...]) -> None:
    for entry in entries:
        _append(session, incident_id, at=entry.at, stage=entry.stage, detail=entry.detail)


def append_timeline(
    session: Session, incident_id: int, *, at: datetime, stage: str, detail: str
) -> None:
    """Add one entry to the incident's timeline (for stages other modules record)."""
    _append(session, incident_id, at=at, stage=stage, detail=detail)


def _append(session: Session, incident_id: int, *, at: datetime, stage: str, detail: str) -> None:
    session.add(TimelineRow(incident_id=incident_id, at=at, stage=stage, detail=detail))
