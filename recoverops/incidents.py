"""Events that come in, and incidents with their lifecycle.

An incident is one failure of one job or resource, grouped by fingerprint. Its status moves
    open → analyzed → awaiting_approval → remediating → resolved
                   ↘──────────────────→ remediating → rolled_back → escalated
                                            remediating ─────────────→ escalated (no inverse)
and a resolved incident whose fingerprint recurs is reopened. An incident whose log could not be
read waits in logs_unavailable (its analysis's summary says why) while its log is retried on
`LogRetrySchedule`; when the log comes, it moves to analyzed:
    open → logs_unavailable → analyzed
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from recoverops.errors import InvalidTransitionError
from recoverops.taxonomy import Category


class Source(StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"
    JENKINS = "jenkins"
    CLOUDWATCH = "cloudwatch"
    AWS = "aws"  # EventBridge events, delivered by SNS (POST /webhooks/aws)
    KUBERNETES = "kubernetes"
    CLI = "cli"


@dataclass(frozen=True, slots=True)
class Event:
    """What came in. Unique per (source, delivery_id)."""

    source: Source
    kind: str
    delivery_id: str
    received_at: datetime
    payload_ref: str


class IncidentStatus(StrEnum):
    OPEN = "open"
    LOGS_UNAVAILABLE = "logs_unavailable"
    ANALYZED = "analyzed"
    AWAITING_APPROVAL = "awaiting_approval"
    REMEDIATING = "remediating"
    RESOLVED = "resolved"
    ROLLED_BACK = "rolled_back"
    ESCALATED = "escalated"
    REOPENED = "reopened"


_ALLOWED: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.OPEN: frozenset(
        {IncidentStatus.ANALYZED, IncidentStatus.LOGS_UNAVAILABLE, IncidentStatus.ESCALATED}
    ),
    IncidentStatus.REOPENED: frozenset(
        {IncidentStatus.ANALYZED, IncidentStatus.LOGS_UNAVAILABLE, IncidentStatus.ESCALATED}
    ),
    # Resolved by hand too: the job may have been rerun and passed while its log stayed away.
    IncidentStatus.LOGS_UNAVAILABLE: frozenset(
        {IncidentStatus.ANALYZED, IncidentStatus.RESOLVED, IncidentStatus.ESCALATED}
    ),
    IncidentStatus.ANALYZED: frozenset(
        {
            IncidentStatus.AWAITING_APPROVAL,
            IncidentStatus.REMEDIATING,
            IncidentStatus.RESOLVED,
            IncidentStatus.ESCALATED,
        }
    ),
    IncidentStatus.AWAITING_APPROVAL: frozenset(
        {IncidentStatus.REMEDIATING, IncidentStatus.ESCALATED}
    ),
    # Escalated straight away when a remediation failed and had nothing to roll back (a rerun
    # that failed again) or its rollback failed too.
    IncidentStatus.REMEDIATING: frozenset(
        {IncidentStatus.RESOLVED, IncidentStatus.ROLLED_BACK, IncidentStatus.ESCALATED}
    ),
    IncidentStatus.ROLLED_BACK: frozenset({IncidentStatus.ESCALATED}),
    IncidentStatus.RESOLVED: frozenset({IncidentStatus.REOPENED}),
    IncidentStatus.ESCALATED: frozenset({IncidentStatus.RESOLVED, IncidentStatus.REOPENED}),
}


def can_transition(current: IncidentStatus, target: IncidentStatus) -> bool:
    return target in _ALLOWED[current]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    stage: str
    detail: str


@dataclass(frozen=True, slots=True)
class Incident:
    fingerprint: str
    target: str
    category: Category
    status: IncidentStatus = IncidentStatus.OPEN
    occurrences: int = 1
    timeline: tuple[TimelineEntry, ...] = field(default=())

    def moved_to(
        self, status: IncidentStatus, *, detail: str = "", at: datetime | None = None
    ) -> Incident:
        """This incident in `status`, with the move on its timeline; refuses impossible moves."""
        if not can_transition(self.status, status):
            raise InvalidTransitionError(
                f"incident {self.fingerprint[:12]} cannot go from {self.status} to {status}"
            )
        entry = TimelineEntry(at=at or datetime.now(UTC), stage=status.value, detail=detail)
        return replace(self, status=status, timeline=(*self.timeline, entry))

    def recurred(self, *, at: datetime | None = None) -> Incident:
        """The same failure was seen again: count it, and reopen a resolved incident."""
        again = replace(self, occurrences=self.occurrences + 1)
        if self.status in (IncidentStatus.RESOLVED, IncidentStatus.ESCALATED):
            return again.moved_to(IncidentStatus.REOPENED, detail="fingerprint recurred", at=at)
        return again


# Prefixed to what is hashed, so a fingerprint of this scheme never equals one of the first,
# which also hashed the category (migration 0007 moved the incidents stored with it).
FINGERPRINT_SCHEME = "v2"


def fingerprint(*, target: str, template_ids: Iterable[str], run: str = "") -> str:
    """Groups repeated failures: the target's identity and the failure chunk's templates.

    No category: the category can come from a learned model, and a new champion must not split
    one recurring failure into two incidents. A failure with no templates (its log could not be
    read or analyzed) cannot be told from the target's other failures by its text, so `run`, the
    job run it happened in, keeps each such failure apart instead of lumping them all into one.
    """
    templates = sorted(set(template_ids))
    digest = hashlib.sha256()
    for part in (FINGERPRINT_SCHEME, target, *(templates or ["run", run])):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class LogRetrySchedule:
    """When the log of an incident in logs_unavailable is fetched again: `first` after the
    failure, then each wait `factor` times the last, at most `ceiling`, `attempts` times in all.
    The defaults try for about two hours: long enough for a token to be fixed or an outage of
    the CI's API to end, short enough that a log past its retention is not asked for all day."""

    first: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    ceiling: timedelta = timedelta(hours=1)
    attempts: int = 8

    def __post_init__(self) -> None:
        if self.first <= timedelta(0) or self.factor < 1.0 or self.attempts < 0:
            raise ValueError(f"a log retry schedule needs first > 0, factor >= 1: {self}")

    def wait_before(self, attempt: int) -> timedelta | None:
        """The wait before retry `attempt` (1 is the first), from the failure or the retry
        before it; None once `attempts` retries were made."""
        if attempt < 1 or attempt > self.attempts:
            return None
        return min(self.first * self.factor ** (attempt - 1), self.ceiling)
