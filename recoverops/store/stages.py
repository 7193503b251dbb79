"""Recording a pipeline stage on an incident: its result, its timeline entry and its audit entry,
in one transaction and once per (incident, event).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recoverops.errors import InvalidTransitionError
from recoverops.incidents import IncidentStatus
from recoverops.store import audit, incidents
from recoverops.store.records import StoredIncident
from recoverops.store.tables import AuditRow, IncidentRow

# The analyzer's audit verb: one entry per (incident, event) it took through the analyze stage.
ANALYZED_VERB = "incident.analyzed"

# How far back in an incident's audit log a repeated stage is recognised.
_RECENT = 200


@dataclass(frozen=True, slots=True)
class StageRecord:
    """The incident after the stage; the stage's audit entry; whether this call recorded it
    (False: the stage was already recorded for this event, and nothing changed)."""

    incident: StoredIncident
    audit_id: int
    recorded: bool


def record_stage(
    session: Session,
    incident_id: int,
    *,
    event_id: int,
    actor: str,
    verb: str,
    key: str,
    result: Mapping[str, Any],
    stage: str,
    detail: str,
    move_to: IncidentStatus | None,
    at: datetime,
    audit_extra: Mapping[str, Any] | None = None,
    merge: Mapping[str, Any] | None = None,
) -> StageRecord | None:
    """Put `result` under `key` in the incident's analysis, move the incident to `move_to` when
    the domain allows it (otherwise add a `stage` timeline entry), and audit it as `verb` with
    the event id and `audit_extra`: once per (incident, event, verb). None when there is no
    such incident. `merge` replaces top-level keys of the analysis in the same write."""
    row = session.execute(
        select(IncidentRow).where(IncidentRow.id == incident_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        return None
    subject = f"incident:{incident_id}"
    done = _recorded(session, subject=subject, verb=verb, event_id=event_id)
    if done is not None:
        return StageRecord(incidents.to_stored_incident(row), done, recorded=False)

    # A new dict, so the JSON column sees a change.
    row.analysis = {**(row.analysis or {}), **(merge or {}), key: dict(result)}
    row.updated_at = at
    moved = False
    if move_to is not None:
        try:
            incidents.move(session, incident_id, move_to, detail=detail, at=at)
            moved = True
        except InvalidTransitionError:  # already past it (a later occurrence): note it instead
            pass
    if not moved:
        incidents.append_timeline(session, incident_id, at=at, stage=stage, detail=detail)
    audit_id = audit.append(
        session,
        actor=actor,
        verb=verb,
        subject=subject,
        detail={**(audit_extra or {}), "event_id": event_id, key: dict(result)},
        at=at,
    )
    session.flush()
    return StageRecord(incidents.to_stored_incident(row), audit_id, recorded=True)


def _recorded(session: Session, *, subject: str, verb: str, event_id: int) -> int | None:
    rows = session.execute(
        select(AuditRow.id, AuditRow.detail)
        .where(AuditRow.subject == subject, AuditRow.verb == verb)
        .order_by(AuditRow.id.desc())
        .limit(_RECENT)
    ).all()
    for audit_id, detail in rows:
        if isinstance(detail, Mapping) and detail.get("event_id") == event_id:
            return int(audit_id)
    return None
