"""Retrying the logs of incidents in logs_unavailable: claiming the due ones, and recording each
try's outcome on the incident (a timeline entry; on success the analysis, on the same incident).

A claim moves the incident's next try on before its log is fetched, so detectors that claim at
the same time never fetch one log twice, and a detector that dies mid-try costs one attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from recoverops.incidents import IncidentStatus, LogRetrySchedule
from recoverops.store import incidents
from recoverops.store.records import StoredIncident
from recoverops.store.tables import EventRow, IncidentRow

# The timeline stage of each try; the status moves are entries of their own.
STAGE_LOG_RETRY = "log_retry"


@dataclass(frozen=True, slots=True)
class LogRetry:
    """Try `attempt` at fetching the log of `incident_id`, as reported by event `event_id`."""

    incident_id: int
    event_id: int
    attempt: int


def claim(
    session: Session, schedule: LogRetrySchedule, *, now: datetime, limit: int
) -> list[LogRetry]:
    """The incidents whose next try is due, with that try counted and the one after scheduled.

    An incident newly in logs_unavailable has no try scheduled: it gets its first one here,
    `schedule.first` from now, and is not claimed yet.
    """
    rows = session.execute(
        select(IncidentRow)
        .where(
            IncidentRow.status == IncidentStatus.LOGS_UNAVAILABLE.value,
            IncidentRow.log_retries < schedule.attempts,
            or_(IncidentRow.log_retry_at.is_(None), IncidentRow.log_retry_at <= now),
        )
        .order_by(IncidentRow.log_retry_at, IncidentRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars()
    claimed: list[LogRetry] = []
    for row in rows:
        if row.log_retry_at is None:
            row.log_retry_at = now + (schedule.wait_before(row.log_retries + 1) or schedule.first)
            continue
        event_id = session.execute(
            select(func.max(EventRow.id)).where(EventRow.incident_id == row.id)
        ).scalar_one_or_none()
        row.log_retries += 1
        wait = schedule.wait_before(row.log_retries + 1)
        row.log_retry_at = None if wait is None else now + wait
        if event_id is not None:  # an incident stored without an event has no log to fetch
            claimed.append(LogRetry(row.id, event_id, row.log_retries))
    session.flush()
    return claimed


def failed(
    session: Session, incident_id: int, *, attempt: int, reason: str, at: datetime
) -> StoredIncident | None:
    """The log is still unavailable: say why on the timeline and in the incident's summary."""
    row = _locked(session, incident_id)
    if row is None:
        return None
    then = (
        f"next try at {row.log_retry_at:%Y-%m-%d %H:%M:%S} UTC"
        if row.log_retry_at is not None
        else "no more tries: replay the event to try again"
    )
    # A new dict, so the JSON column sees a change; the reason may have changed (401, then 503).
    row.analysis = {**(row.analysis or {}), "summary": reason}
    row.updated_at = at
    incidents.append_timeline(
        session, row.id, at=at, stage=STAGE_LOG_RETRY, detail=f"try {attempt}: {reason}; {then}"
    )
    session.flush()
    return incidents.to_stored_incident(row)


def landed(
    session: Session,
    incident_id: int,
    *,
    note: str,
    fingerprint: str,
    analysis: dict[str, Any],
    features: dict[str, Any] | None,
    at: datetime,
) -> StoredIncident | None:
    """The log came (`note` says how): its analysis replaces the unavailable one on the same
    incident, which takes the failure's fingerprint so that its recurrences find it. None when
    the incident no longer waits for its log (resolved by hand meanwhile, or landed already)."""
    row = _locked(session, incident_id)
    if row is None or row.status != IncidentStatus.LOGS_UNAVAILABLE.value:
        return None
    holder = session.execute(
        select(IncidentRow.id).where(IncidentRow.fingerprint == fingerprint)
    ).scalar_one_or_none()
    detail = note
    if holder is None or holder == row.id:
        row.fingerprint = fingerprint
    else:  # the same failure already has an incident: this one keeps its job run's fingerprint
        detail += f"; the same failure as incident {holder}"
    row.category = analysis["category"]
    row.analysis = analysis
    row.evidence = analysis["evidence"]
    row.features = features
    row.log_retry_at = None
    row.updated_at = at
    incidents.append_timeline(session, row.id, at=at, stage=STAGE_LOG_RETRY, detail=detail)
    session.flush()
    return incidents.to_stored_incident(row)


def _locked(session: Session, incident_id: int) -> IncidentRow | None:
    return session.execute(
        select(IncidentRow).where(IncidentRow.id == incident_id).with_for_update()
    ).scalar_one_or_none()
