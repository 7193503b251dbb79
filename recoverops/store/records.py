"""What the store hands back: frozen values, detached from any session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from recoverops.incidents import Incident, IncidentStatus, Source
from recoverops.taxonomy import Category


class EventAdded(NamedTuple):
    """The stored event's id, and whether this call stored it (False: it was a redelivery)."""

    event_id: int
    created: bool


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    source: Source
    kind: str
    delivery_id: str
    received_at: datetime
    payload_ref: str
    payload: Any
    processed_at: datetime | None
    incident_id: int | None
    # What the latest attempt at processing it raised, if any (a retried or dead message).
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class StoredIncident:
    id: int
    fingerprint: str
    target: str
    category: Category
    source: Source
    status: IncidentStatus
    occurrences: int
    first_seen: datetime
    last_seen: datetime
    updated_at: datetime
    analysis: dict[str, Any] | None
    evidence: tuple[dict[str, Any], ...]
    # The model's feature row of the latest analyzed occurrence (None: no log was analyzed).
    features: dict[str, Any] | None = None

    def to_domain(self) -> Incident:
        """The domain incident (without its timeline; see `Store.incident_timeline`)."""
        return Incident(
            fingerprint=self.fingerprint,
            target=self.target,
            category=self.category,
            status=self.status,
            occurrences=self.occurrences,
        )


@dataclass(frozen=True, slots=True)
class IncidentUpsert:
    """The incident after an occurrence was recorded.

    `created`: this occurrence opened it. `counted`: this occurrence was new; False when the event
    had already been processed (a redelivery or a reclaimed queue entry), and nothing changed.
    """

    incident: StoredIncident
    created: bool
    counted: bool


@dataclass(frozen=True, slots=True)
class IncidentPage:
    """One page of incidents, newest first; pass `next_cursor` back for the next page."""

    items: tuple[StoredIncident, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    """One operator's feedback on an incident, as stored.

    `category`: the taxonomy id the operator confirmed or corrected it to (None: not judged).
    `fix_outcome`: "worked" or "failed" (None: not reported).
    """

    id: int
    incident_id: int
    category: Category | None
    fix_outcome: str | None
    operator: str
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LabelledIncident:
    """An incident an operator gave a category: a training example for the models.

    `label` is the category of its latest feedback that gave one; `fix_outcome` the latest
    outcome reported; `features` the stored feature row (None when no log was analyzed).
    """

    incident_id: int
    target: str
    source: Source
    features: dict[str, Any] | None
    label: Category
    fix_outcome: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    verb: str
    subject: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A claimed outbox message; `attempts` counts its claims, this one included."""

    id: int
    dedup_key: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message given up on after `attempts` deliveries; `last_error` says what went wrong."""

    id: int
    queue: str
    dedup_key: str
    payload: dict[str, Any]
    attempts: int
    last_error: str
    dead_at: datetime
    replayed_at: datetime | None


class DeployDescription:
    """What a deploy marker says of itself, for the deploy as recognised
    (`recoverops.correlation.deploys.Deploy`) and as stored (`StoredDeploy`) alike."""

    __slots__ = ()
    source: str
    repository: str
    name: str
    environment: str
    status: str
    at: datetime

    @property
    def failed(self) -> bool:
        return self.status.lower() in ("failure", "failed", "error", "timed_out", "unstable")

    def describe(self) -> str:
        where = f" to {self.environment}" if self.environment else ""
        return (
            f"{self.source} deploy {self.name!r} of {self.repository}{where} "
            f"({self.status}, {self.at:%Y-%m-%d %H:%M:%S} UTC)"
        )


@dataclass(frozen=True, slots=True)
class StoredDeploy(DeployDescription):
    """A deploy marker (`recoverops.correlation`): a CI run that deployed, and the incident it
    was found to have caused, if any."""

    id: int
    source: str
    key: str
    event_id: int | None
    repository: str
    name: str
    environment: str
    status: str
    why: str
    hints: tuple[str, ...]
    at: datetime
    incident_id: int | None


@dataclass(frozen=True, slots=True)
class WatchedOccurrence:
    """An occurrence of a watched failure: its event's time, incident and stored identity."""

    event_id: int
    incident_id: int
    seen_at: datetime
    identity: Any


@dataclass(frozen=True, slots=True)
class StoredTemplate:
    """A template a watched source printed, as the anomaly model keeps it."""

    template_id: str
    template: str
    first_seen: datetime
    last_seen: datetime
    count: int
    baseline: float
