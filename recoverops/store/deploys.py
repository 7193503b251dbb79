"""Deploy markers and the incidents they are linked to (`recoverops.correlation`).

One marker per CI run (`Deploy.key`): a later delivery of the run updates its status and keeps
its earliest time. Linking a marker to an incident rewrites the incident's root cause and
evidence with `compose`, in the transaction that records the link, its timeline entry and its
audit entry, so a link is made once however often it is asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recoverops.store import audit
from recoverops.store.incidents import append_timeline
from recoverops.store.insert_or_ignore import insert_or_ignore
from recoverops.store.records import StoredDeploy, WatchedOccurrence
from recoverops.store.tables import AuditRow, DeployRow, EventRow, IncidentRow

if TYPE_CHECKING:
    from recoverops.correlation.deploys import Deploy

STAGE_CORRELATED = "correlated"
STAGE_MERGED = "merged"
VERB_CORRELATED = "incident.correlated"
ACTOR = "correlator"

# (analysis, evidence, the linked deploys with why each matched) → (analysis, evidence)
Compose = Callable[
    [dict[str, Any] | None, list[dict[str, Any]], list[tuple[StoredDeploy, str]]],
    tuple[dict[str, Any], list[dict[str, Any]]],
]


def record(session: Session, deploy: Deploy, *, event_id: int | None) -> StoredDeploy:
    values = {
        "source": deploy.source,
        "delivery_id": deploy.key[:255],
        "event_id": event_id,
        "repository": deploy.repository[:512],
        "name": deploy.name[:512],
        "environment": deploy.environment[:255],
        "status": deploy.status[:32],
        "why": deploy.why,
        "hints": list(deploy.hints),
        "at": deploy.at,
        "incident_id": None,
    }
    new_id = insert_or_ignore(
        session, DeployRow.id, values, unique_columns=("source", "delivery_id")
    )
    if new_id is not None:
        return _stored(session.get_one(DeployRow, new_id))
    row = session.execute(
        select(DeployRow)
        .where(DeployRow.source == deploy.source, DeployRow.delivery_id == deploy.key[:255])
        .with_for_update()
    ).scalar_one()
    row.status = deploy.status[:32]
    row.event_id = event_id if event_id is not None else row.event_id
    row.hints = list(dict.fromkeys([*row.hints, *deploy.hints]))
    row.at = min(row.at, deploy.at)
    session.flush()
    return _stored(row)


def find(session: Session, *, source: str, key: str) -> StoredDeploy | None:
    row = session.execute(
        select(DeployRow).where(DeployRow.source == source, DeployRow.delivery_id == key[:255])
    ).scalar_one_or_none()
    return None if row is None else _stored(row)


def set_incident(session: Session, *, source: str, key: str, incident_id: int) -> bool:
    """Give the marker its incident unless it has one; whether it was set."""
    row = session.execute(
        select(DeployRow)
        .where(DeployRow.source == source, DeployRow.delivery_id == key[:255])
        .with_for_update()
    ).scalar_one_or_none()
    if row is None or row.incident_id is not None:
        return False
    row.incident_id = incident_id
    return True


def attach(
    session: Session,
    incident_id: int,
    *,
    event_id: int,
    seen_at: datetime,
    side: str,
    evidence: Sequence[dict[str, Any]],
    detail: str,
    at: datetime,
) -> bool:
    """Count the event's failure on the incident it was merged into (the other side of a
    deploy and the crash it caused): the event processed with that incident, an occurrence, its
    evidence appended under `side` (replacing that side's earlier lines), a timeline entry. False
    when the event was processed already, or the incident is gone."""
    event = session.execute(
        select(EventRow).where(EventRow.id == event_id).with_for_update()
    ).scalar_one_or_none()
    incident = session.execute(
        select(IncidentRow).where(IncidentRow.id == incident_id).with_for_update()
    ).scalar_one_or_none()
    if event is None or incident is None or event.processed_at is not None:
        return False
    kept = [e for e in incident.evidence if e.get("side") != side]
    incident.evidence = [*kept, *({**e, "side": side} for e in evidence)]
    incident.occurrences += 1
    incident.last_seen = max(incident.last_seen, seen_at)
    incident.updated_at = at
    event.processed_at = at
    event.incident_id = incident_id
    append_timeline(session, incident_id, at=seen_at, stage=STAGE_MERGED, detail=detail)
    session.flush()
    return True


def between(session: Session, *, start: datetime, end: datetime, limit: int) -> list[StoredDeploy]:
    rows = session.execute(
        select(DeployRow)
        .where(DeployRow.at >= start, DeployRow.at <= end)
        .order_by(DeployRow.at.desc(), DeployRow.id.desc())
        .limit(limit)
    ).scalars()
    return [_stored(row) for row in rows]


def of_incident(session: Session, incident_id: int) -> list[StoredDeploy]:
    rows = session.execute(
        select(DeployRow).where(DeployRow.incident_id == incident_id).order_by(DeployRow.at)
    ).scalars()
    return [_stored(row) for row in rows]


def watched_between(
    session: Session, *, not_sources: Sequence[str], start: datetime, end: datetime, limit: int
) -> list[WatchedOccurrence]:
    """Occurrences of watched failures (events that have an incident, of any source but
    `not_sources`: the CI systems, whose failures have no workload) seen in [start, end],
    oldest first."""
    rows = session.execute(
        select(EventRow.id, EventRow.incident_id, EventRow.received_at, EventRow.payload)
        .where(
            EventRow.source.not_in(list(not_sources)),
            EventRow.incident_id.is_not(None),
            EventRow.received_at >= start,
            EventRow.received_at <= end,
        )
        .order_by(EventRow.received_at, EventRow.id)
        .limit(limit)
    )
    return [
        WatchedOccurrence(
            event_id=event_id,
            incident_id=incident_id,
            seen_at=seen_at,
            identity=payload.get("identity") if isinstance(payload, dict) else None,
        )
        for event_id, incident_id, seen_at, payload in rows
        if incident_id is not None
    ]


def link(
    session: Session,
    incident_id: int,
    *,
    links: Sequence[tuple[int, str]],
    compose: Compose,
    at: datetime,
) -> list[StoredDeploy]:
    """Link the deploys `links` names (id, why it matched) to the incident and recompose its
    analysis from them (the caller passes every deploy the incident is put down to); the
    deploys newly linked by this call."""
    incident = session.execute(
        select(IncidentRow).where(IncidentRow.id == incident_id).with_for_update()
    ).scalar_one_or_none()
    if incident is None:
        return []
    new: list[StoredDeploy] = []
    subject = f"incident:{incident_id}"
    named = {
        detail.get("deploy_id")
        for detail in session.execute(
            select(AuditRow.detail).where(
                AuditRow.subject == subject, AuditRow.verb == VERB_CORRELATED
            )
        ).scalars()
        if isinstance(detail, dict)
    }
    for deploy_id, why in links:
        row = session.get(DeployRow, deploy_id)
        if row is None:
            continue
        row.incident_id = incident_id
        if deploy_id in named:  # named as this incident's cause before
            continue
        stored = _stored(row)
        new.append(stored)
        detail = f"likely caused by {stored.describe()}: {why}"
        append_timeline(session, incident_id, at=at, stage=STAGE_CORRELATED, detail=detail)
        audit.append(
            session,
            actor=ACTOR,
            verb=VERB_CORRELATED,
            subject=subject,
            detail={"deploy_id": deploy_id, "deploy": stored.describe(), "why": why},
            at=at,
        )
    session.flush()
    linked = [
        (_stored(row), why)
        for deploy_id, why in links
        if (row := session.get(DeployRow, deploy_id))
    ]
    if linked:
        analysis, evidence = compose(incident.analysis, list(incident.evidence), linked)
        incident.analysis = analysis
        incident.evidence = evidence
        incident.updated_at = at
    return new


def _stored(row: DeployRow) -> StoredDeploy:
    return StoredDeploy(
        id=row.id,
        source=row.source,
        key=row.delivery_id,
        event_id=row.event_id,
        repository=row.repository,
        name=row.name,
        environment=row.environment,
        status=row.status,
        why=row.why,
        hints=tuple(row.hints),
        at=row.at,
        incident_id=row.incident_id,
    )
