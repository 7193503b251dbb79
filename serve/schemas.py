"""The JSON the API answers with, as pydantic models (they are also the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from recoverops.incidents import IncidentStatus, Source, TimelineEntry
from recoverops.redaction import redact_json, redact_text
from recoverops.store import DeadLetter, StoredIncident
from recoverops.taxonomy import Category


class Accepted(BaseModel):
    """The event is stored (and queued when it reports a failure)."""

    event_id: int
    redelivery: bool
    failure: bool


class Ignored(BaseModel):
    """An event type RecoverOps does not use: accepted so the sender records a success."""

    ignored: bool = True
    event: str
    reason: str


class SnsAnswer(BaseModel):
    """An SNS subscription message, handled: `confirmed` (the subscription is now live) or
    `unsubscribed`, for `topic`."""

    ok: bool = True
    type: str
    topic: str


class Pong(BaseModel):
    ok: bool = True
    zen: str | None = None


class Refusal(BaseModel):
    detail: str
    reason: str


class IncidentOut(BaseModel):
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

    @classmethod
    def of(cls, incident: StoredIncident) -> IncidentOut:
        return cls(**_fields(incident))


class TimelineEntryOut(BaseModel):
    at: datetime
    stage: str
    detail: str

    @classmethod
    def of(cls, entry: TimelineEntry) -> TimelineEntryOut:
        return cls(at=entry.at, stage=entry.stage, detail=redact_text(entry.detail))


class IncidentDetail(IncidentOut):
    analysis: dict[str, Any] | None
    evidence: list[dict[str, Any]]
    timeline: list[TimelineEntryOut]

    @classmethod
    def with_timeline(
        cls, incident: StoredIncident, timeline: list[TimelineEntry]
    ) -> IncidentDetail:
        # Masked when stored; masked again here for rows stored before redaction existed.
        return cls(
            **_fields(incident),
            analysis=redact_json(incident.analysis),
            evidence=redact_json(list(incident.evidence)),
            timeline=[TimelineEntryOut.of(entry) for entry in timeline],
        )


class IncidentPageOut(BaseModel):
    items: list[IncidentOut]
    next_cursor: str | None


class Check(BaseModel):
    ok: bool
    error: str | None = None


class Health(BaseModel):
    ok: bool
    checks: dict[str, Check]


def _fields(incident: StoredIncident) -> dict[str, Any]:
    return {name: getattr(incident, name) for name in IncidentOut.model_fields}


class DeadLetterOut(BaseModel):
    """A queued event given up on after `attempts` deliveries, with its last error."""

    id: int
    queue: str
    key: str
    event_id: int | None
    attempts: int
    last_error: str
    dead_at: datetime

    @classmethod
    def of(cls, letter: DeadLetter) -> DeadLetterOut:
        event_id = letter.payload.get("event_id")
        return cls(
            id=letter.id,
            queue=letter.queue,
            key=letter.dedup_key,
            event_id=event_id if isinstance(event_id, int) else None,
            attempts=letter.attempts,
            last_error=redact_text(letter.last_error),  # an exception can quote a URL
            dead_at=letter.dead_at,
        )


class DeadLetterList(BaseModel):
    items: list[DeadLetterOut]
