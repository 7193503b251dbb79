"""Remediation actions in the store: each change of an action is one transaction, with its audit
entries and its incident's move in that same transaction.

An action is created once per action key (a retried plan finds the first); its status only
moves from the statuses a caller expects (a second remediator, or a resumed one, finds the move
already made and does nothing); work on an action is claimed with a lease; and the policy's
decision is taken under a per-target lock (PostgreSQL advisory lock; SQLite's single writer),
so that two remediators never both spend a target's last allowed action.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import Session

from recoverops.incidents import IncidentStatus, can_transition
from recoverops.remediation.model import (
    RUNNABLE,
    ActionRecord,
    ActionStatus,
    PastAction,
    Risk,
    System,
)
from recoverops.store import audit, incidents
from recoverops.store.insert_or_ignore import insert_or_ignore
from recoverops.store.records import AuditEntry
from recoverops.store.store import Store
from recoverops.store.tables import ActionRow, IncidentRow

# How far back a target's history is read for its limits and circuit breaker.
HISTORY_LIMIT = 1_000


@dataclass(frozen=True, slots=True)
class Audit:
    """One audit entry to append with a change: who did what, with what detail."""

    actor: str
    verb: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class IncidentMove:
    """What a change means for the action's incident: a status to move it to (when its lifecycle
    allows; otherwise only a timeline entry) and what to say on its timeline."""

    status: IncidentStatus | None
    detail: str


def subject_of(action_id: int) -> str:
    return f"action:{action_id}"


class ActionStore:
    """The actions of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def create(
        self,
        *,
        key: str,
        target: str,
        values: Callable[[list[PastAction]], Mapping[str, Any]],
        audits: Callable[[int, Mapping[str, Any]], Sequence[Audit]],
        incident: Callable[[Mapping[str, Any]], IncidentMove | None],
        now: datetime,
    ) -> tuple[ActionRecord, bool]:
        """The action under `key`: found, or made from `values(history of the target)`. (the
        action, whether this call made it)"""
        with self._store.transaction() as session:
            existing = _by_key(session, key)
            if existing is not None:
                return to_record(existing), False
            _lock_target(session, target)
            row_values = dict(values(_history(session, target, exclude=None)))
            row_values.update(action_key=key, target=target, created_at=now, updated_at=now)
            new_id = insert_or_ignore(
                session, ActionRow.id, row_values, unique_columns=("action_key",)
            )
            if new_id is None:  # another remediator made it between our look and our insert
                raced = _by_key(session, key)
                assert raced is not None
                return to_record(raced), False
            row = session.get_one(ActionRow, new_id)
            for entry in audits(new_id, row_values):
                _audit(session, new_id, entry, now)
            _move_incident(session, row.incident_id, incident(row_values), now)
            return to_record(row), True

    def transition(
        self,
        action_id: int,
        *,
        expect: Collection[ActionStatus],
        update: Callable[[ActionRecord], Mapping[str, Any]],
        audits: Sequence[Audit] = (),
        incident: IncidentMove | None = None,
        now: datetime,
        owner: str | None = None,
    ) -> ActionRecord | None:
        """Apply `update(action)` if the action is in one of `expect` (and, with `owner`, still
        claimed by it); None, changing nothing, otherwise."""
        with self._store.transaction() as session:
            row = _locked(session, action_id)
            if row is None or ActionStatus(row.status) not in expect:
                return None
            if owner is not None and row.claimed_by != owner:
                return None
            for name, value in update(to_record(row)).items():
                setattr(row, name, value)
            row.updated_at = now
            for entry in audits:
                _audit(session, action_id, entry, now)
            _move_incident(session, row.incident_id, incident, now)
            session.flush()
            return to_record(row)

    def gate(
        self,
        action_id: int,
        *,
        decide: Callable[
            [ActionRecord, list[PastAction]],
            tuple[Mapping[str, Any], Sequence[Audit], IncidentMove | None],
        ],
        owner: str,
        now: datetime,
    ) -> ActionRecord | None:
        """Ask the policy again, under the target's lock and with the target's history as it is
        now, before an approved action starts; apply what `decide` answers."""
        with self._store.transaction() as session:
            row = _locked(session, action_id)
            if row is None or row.status != ActionStatus.APPROVED or row.claimed_by != owner:
                return None
            _lock_target(session, row.target)
            changes, entries, move = decide(
                to_record(row), _history(session, row.target, exclude=row.id)
            )
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = now
            for entry in entries:
                _audit(session, action_id, entry, now)
            _move_incident(session, row.incident_id, move, now)
            session.flush()
            return to_record(row)

    def claim(
        self, action_id: int, *, owner: str, until: datetime, now: datetime
    ) -> ActionRecord | None:
        """Take (or renew) the lease on a runnable action; None if another holds a live lease
        or there is nothing to run."""
        with self._store.transaction() as session:
            row = _locked(session, action_id)
            if row is None or ActionStatus(row.status) not in RUNNABLE:
                return None
            free = row.claimed_until is None or row.claimed_until <= now or row.claimed_by == owner
            if not free:
                return None
            row.claimed_by, row.claimed_until = owner, until
            session.flush()
            return to_record(row)

    def release(self, action_id: int, *, owner: str) -> None:
        with self._store.transaction() as session:
            row = _locked(session, action_id)
            if row is not None and row.claimed_by == owner:
                row.claimed_by, row.claimed_until = None, None

    def existing_keys(self, keys: Collection[str]) -> set[str]:
        """Which of `keys` name an action already: one lookup on the unique action key."""
        if not keys:
            return set()
        with self._store.reading() as session:
            found = session.execute(
                select(ActionRow.action_key).where(ActionRow.action_key.in_(list(keys)))
            ).scalars()
            return set(found)

    def get(self, action_id: int) -> ActionRecord | None:
        with self._store.transaction() as session:
            row = session.get(ActionRow, action_id)
            return None if row is None else to_record(row)

    def find(
        self,
        *,
        status: Collection[ActionStatus] | None = None,
        incident_id: int | None = None,
        system: System | None = None,
        target: str | None = None,
        limit: int = 100,
    ) -> list[ActionRecord]:
        """Newest first."""
        query = select(ActionRow).order_by(ActionRow.id.desc()).limit(limit)
        if status is not None:
            query = query.where(ActionRow.status.in_([s.value for s in status]))
        if incident_id is not None:
            query = query.where(ActionRow.incident_id == incident_id)
        if system is not None:
            query = query.where(ActionRow.system == system.value)
        if target is not None:
            query = query.where(ActionRow.target == target)
        with self._store.transaction() as session:
            return [to_record(row) for row in session.execute(query).scalars()]

    def claimable(self, *, system: System, now: datetime, limit: int = 50) -> list[int]:
        """Runnable actions of `system` that no live lease holds, oldest first."""
        query = (
            select(ActionRow.id)
            .where(
                ActionRow.system == system.value,
                ActionRow.status.in_([s.value for s in RUNNABLE]),
                or_(ActionRow.claimed_until.is_(None), ActionRow.claimed_until <= now),
            )
            .order_by(ActionRow.id)
            .limit(limit)
        )
        with self._store.transaction() as session:
            return list(session.execute(query).scalars())

    def overdue_approvals(self, *, now: datetime) -> list[int]:
        query = select(ActionRow.id).where(
            and_(
                ActionRow.status == ActionStatus.AWAITING_APPROVAL.value,
                ActionRow.approval_deadline <= now,
            )
        )
        with self._store.transaction() as session:
            return list(session.execute(query.order_by(ActionRow.id)).scalars())

    def trail(self, action_id: int, *, limit: int = 500) -> list[AuditEntry]:
        """The action's audit entries, oldest first."""
        with self._store.transaction() as session:
            entries = audit.entries(session, subject=subject_of(action_id), limit=limit)
        return entries[::-1]

    def audit(self, action_id: int, entry: Audit, *, now: datetime) -> None:
        """One audit entry on its own (an API call the action made)."""
        with self._store.transaction() as session:
            _audit(session, action_id, entry, now)


def _by_key(session: Session, key: str) -> ActionRow | None:
    return session.execute(
        select(ActionRow).where(ActionRow.action_key == key)
    ).scalar_one_or_none()


def _locked(session: Session, action_id: int) -> ActionRow | None:
    query = select(ActionRow).where(ActionRow.id == action_id).with_for_update()
    return session.execute(query).scalar_one_or_none()


def _lock_target(session: Session, target: str) -> None:
    """Serialise decisions about one target until this transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(target.encode()) - 2**31  # a signed 32-bit key per target
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
    # SQLite: every store transaction already begins IMMEDIATE, holding the one write lock.


def _history(session: Session, target: str, *, exclude: int | None) -> list[PastAction]:
    query = (
        select(
            ActionRow.started_at,
            ActionRow.risk,
            ActionRow.status,
            ActionRow.updated_at,
            ActionRow.id,
        )
        .where(ActionRow.target == target)
        .order_by(ActionRow.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return [
        PastAction(
            started_at=started_at,
            risk=Risk(risk),
            status=ActionStatus(status),
            updated_at=updated_at,
        )
        for started_at, risk, status, updated_at, action_id in session.execute(query)
        if action_id != exclude
    ]


def _audit(session: Session, action_id: int, entry: Audit, now: datetime) -> None:
    audit.append(
        session,
        actor=entry.actor,
        verb=entry.verb,
        subject=subject_of(action_id),
        detail=entry.detail,
        at=now,
    )


def _move_incident(
    session: Session, incident_id: int | None, move: IncidentMove | None, now: datetime
) -> None:
    if incident_id is None or move is None:
        return
    row = session.execute(
        select(IncidentRow).where(IncidentRow.id == incident_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        return
    if move.status is not None and can_transition(IncidentStatus(row.status), move.status):
        incidents.move(session, incident_id, move.status, detail=move.detail, at=now)
        if move.status is IncidentStatus.ROLLED_BACK:  # a rollback always goes to a person
            incidents.move(
                session, incident_id, IncidentStatus.ESCALATED, detail=move.detail, at=now
            )
    else:
        incidents.append_timeline(
            session, incident_id, at=now, stage="remediation", detail=move.detail
        )


def to_record(row: ActionRow) -> ActionRecord:
    return ActionRecord(
        id=row.id,
        key=row.action_key,
        incident_id=row.incident_id,
        kind=row.kind,
        system=System(row.system),
        target=row.target,
        environment=row.environment,
        risk=Risk(row.risk),
        params=dict(row.params or {}),
        reason=row.reason,
        status=ActionStatus(row.status),
        decision=dict(row.decision or {}),
        decided_by=row.decided_by,
        snapshot=row.snapshot,
        result=dict(row.result or {}),
        validate_within_s=row.validate_within_s,
        approval_deadline=row.approval_deadline,
        validate_deadline=row.validate_deadline,
        started_at=row.started_at,
        finished_at=row.finished_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
