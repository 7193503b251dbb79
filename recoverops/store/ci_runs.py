"""CI runs (migration 0013): recorded once per event, read back for a failure's history.

Every read is bounded by a limit and walks an index (target and time, or commit), so none scans
a table that only grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recoverops.ci_runs import RunFacts
from recoverops.store.insert_or_ignore import insert_or_ignore
from recoverops.store.tables import ActionRow, CiRunRow, EventRow, FeedbackRow

# How many runs one question reads at most.
LIMIT = 200


@dataclass(frozen=True, slots=True)
class StoredRun:
    id: int
    event_id: int
    source: str
    target: str
    outcome: str
    commit_sha: str | None
    branch: str | None
    default_branch: str | None
    run_key: str | None
    attempt: int | None
    log_project: str | None
    log_job: str | None
    tests: tuple[str, ...] | None
    finished_at: datetime
    # The incident the run's failure counted on (None: passed, or not processed yet).
    incident_id: int | None = None

    @property
    def on_default_branch(self) -> bool:
        return (
            self.branch is not None
            and self.default_branch is not None
            and self.branch == self.default_branch
        )


@dataclass(frozen=True, slots=True)
class LastFix:
    """The newest remediation action of an incident and what became of it, and the newest
    operator word on whether the fix worked."""

    kind: str | None
    status: str | None
    at: datetime | None
    feedback: str | None
    feedback_at: datetime | None


def record(session: Session, event_id: int, facts: RunFacts, *, at: datetime) -> bool:
    """Record the run of `event_id` unless it is already; True when this call recorded it."""
    new_id = insert_or_ignore(
        session,
        CiRunRow.id,
        {
            "event_id": event_id,
            "source": facts.source,
            "target": facts.target[:512],
            "outcome": facts.outcome,
            "commit_sha": facts.commit_sha[:64] if facts.commit_sha else None,
            "branch": facts.branch,
            "default_branch": facts.default_branch,
            "run_key": facts.run_key,
            "attempt": facts.attempt,
            "log_project": facts.log_project,
            "log_job": facts.log_job,
            "finished_at": at,
        },
        unique_columns=("event_id",),
    )
    return new_id is not None


def set_tests(session: Session, event_id: int, tests: Sequence[str]) -> bool:
    """Keep the failing test ids the analysis named for the run of `event_id`."""
    changed = session.execute(
        update(CiRunRow)
        .where(CiRunRow.event_id == event_id)
        .values(tests=list(tests))
        .returning(CiRunRow.id)
    ).scalar_one_or_none()
    return changed is not None


def of_event(session: Session, event_id: int) -> StoredRun | None:
    row = session.execute(
        select(CiRunRow, EventRow.incident_id)
        .join(EventRow, EventRow.id == CiRunRow.event_id)
        .where(CiRunRow.event_id == event_id)
    ).one_or_none()
    return None if row is None else _stored(row[0], row[1])


def on_commit(session: Session, *, target: str, commit_sha: str) -> list[StoredRun]:
    """The runs of job `target` on one commit, newest first."""
    rows = session.execute(
        select(CiRunRow, EventRow.incident_id)
        .join(EventRow, EventRow.id == CiRunRow.event_id)
        .where(CiRunRow.commit_sha == commit_sha, CiRunRow.target == target)
        .order_by(CiRunRow.finished_at.desc(), CiRunRow.id.desc())
        .limit(LIMIT)
    ).all()
    return [_stored(run, incident_id) for run, incident_id in rows]


def failed_with(
    session: Session, *, incident_id: int, target: str, since: datetime, until: datetime
) -> list[StoredRun]:
    """The failed runs of `target` between `since` and `until` that counted on `incident_id`
    (the same failure fingerprint), newest first."""
    rows = session.execute(
        select(CiRunRow, EventRow.incident_id)
        .join(EventRow, EventRow.id == CiRunRow.event_id)
        .where(
            CiRunRow.target == target,
            CiRunRow.finished_at >= since,
            CiRunRow.finished_at <= until,
            CiRunRow.outcome == "failed",
            EventRow.incident_id == incident_id,
        )
        .order_by(CiRunRow.finished_at.desc(), CiRunRow.id.desc())
        .limit(LIMIT)
    ).all()
    return [_stored(run, found) for run, found in rows]


def last_passing(session: Session, *, target: str, before: datetime) -> StoredRun | None:
    """The newest passing run of `target` that finished before `before`."""
    row = session.execute(
        select(CiRunRow, EventRow.incident_id)
        .join(EventRow, EventRow.id == CiRunRow.event_id)
        .where(
            CiRunRow.target == target,
            CiRunRow.outcome == "passed",
            CiRunRow.finished_at <= before,
        )
        .order_by(CiRunRow.finished_at.desc(), CiRunRow.id.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else _stored(row[0], row[1])


def last_fix(session: Session, incident_id: int) -> LastFix | None:
    action = session.execute(
        select(ActionRow.kind, ActionRow.status, ActionRow.updated_at)
        .where(ActionRow.incident_id == incident_id)
        .order_by(ActionRow.id.desc())
        .limit(1)
    ).one_or_none()
    said = session.execute(
        select(FeedbackRow.fix_outcome, FeedbackRow.created_at)
        .where(FeedbackRow.incident_id == incident_id, FeedbackRow.fix_outcome.is_not(None))
        .order_by(FeedbackRow.id.desc())
        .limit(1)
    ).one_or_none()
    if action is None and said is None:
        return None
    return LastFix(
        kind=None if action is None else action[0],
        status=None if action is None else action[1],
        at=None if action is None else action[2],
        feedback=None if said is None else said[0],
        feedback_at=None if said is None else said[1],
    )


def _stored(row: CiRunRow, incident_id: int | None) -> StoredRun:
    tests = row.tests if isinstance(row.tests, list) else None
    return StoredRun(
        id=row.id,
        event_id=row.event_id,
        source=row.source,
        target=row.target,
        outcome=row.outcome,
        commit_sha=row.commit_sha,
        branch=row.branch,
        default_branch=row.default_branch,
        run_key=row.run_key,
        attempt=row.attempt,
        log_project=row.log_project,
        log_job=row.log_job,
        tests=None if tests is None else tuple(str(t) for t in tests),
        finished_at=row.finished_at,
        incident_id=incident_id,
    )
