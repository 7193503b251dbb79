"""One queued event to one stored incident: the detector's work, with no Ray in it.

    stored event ─► job identity ─► fetch log ─► analyze ─► fingerprint ─► upsert incident
                                  (unavailable: an incident of that job run that says why,
                                   category unknown)
                                  (covered: the event echoes its jobs' own events; recorded,
                                   marked processed, no incident; see `jobs`)

The incident is stored open ("detected"); the analyzer (`analyzer.analyze_incident`) takes it
through the analyze stage to `analyzed`.

The incident keeps the analysis's model feature row too, so operator feedback on it becomes a
training example (`recoverops.training.incident_data`) without the log being kept.

Idempotent: the store counts an occurrence once per event and marks the event processed in the
same transaction, so an event processed twice (a reclaimed queue entry) changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from recoverops.analysis import Analysis
from recoverops.connectors import JobRef, LogResult
from recoverops.errors import RecoverOpsError
from recoverops.incidents import fingerprint
from recoverops.models.features import feature_row
from recoverops.redaction import redact_text
from recoverops.store import Store, StoredEvent
from recoverops.taxonomy import Category

from .jobs import JobIdentity, job_identity

logger = logging.getLogger("recoverops.actors")

Fetch = Callable[[JobRef], LogResult]
Analyze = Callable[[str], Analysis]
OutcomeStatus = Literal["stored", "repeat", "missing", "covered"]
# "stored": this call recorded the occurrence; "repeat": the event was processed before (nothing
# changed); "missing": no such event (nothing to do); "covered": the event echoes failures its
# jobs' own events report, so this call marked it processed without an incident.

# The audit verb of a covered event, and the actor named in it.
COVERED_VERB = "event.covered"
DETECTOR = "detector"


@dataclass(frozen=True, slots=True)
class Outcome:
    event_id: int
    status: OutcomeStatus
    incident_id: int | None = None
    category: Category | None = None
    logs_available: bool = False


def process_event(store: Store, event_id: int, *, fetch: Fetch, analyze: Analyze) -> Outcome:
    """Take the stored event `event_id` to its incident, at most once."""
    event = store.get_event(event_id)
    if event is None:
        return Outcome(event_id, "missing")
    if event.processed_at is not None:
        return Outcome(event_id, "repeat", incident_id=event.incident_id)
    job = job_identity(event)
    if job.covered:
        if not store.mark_event_processed(event.id):
            return Outcome(event_id, "repeat")
        detail = {"kind": event.kind, "target": job.target, "why": job.why}
        store.audit(DETECTOR, COVERED_VERB, subject=f"event:{event.id}", detail=detail)
        return Outcome(event_id, "covered")
    analysis, available = _analyze_job(job, fetch=fetch, analyze=analyze)
    if job.cause is not None:  # a watched failure: one incident per target and cause
        grouped = fingerprint(target=job.target, template_ids=(), run=f"cause:{job.cause}")
    else:
        grouped = fingerprint(
            target=job.target, template_ids=analysis.templates, run=_run_of(event, job)
        )
    upsert = store.upsert_incident(
        grouped,
        target=job.target,
        category=analysis.category,
        source=event.source,
        seen_at=event.received_at,
        event_id=event.id,
        analysis=analysis,
        # Kept for retraining; a failure whose log was not analyzed has nothing to learn from.
        features=feature_row(analysis) if available else None,
    )
    incident = upsert.incident
    return Outcome(
        event_id,
        "stored" if upsert.counted else "repeat",
        incident_id=incident.id,
        category=incident.category,
        logs_available=available,
    )


def _run_of(event: StoredEvent, job: JobIdentity) -> str:
    """The job run an event reports: what keeps apart failures whose log says nothing."""
    if job.ref is not None:
        return f"{job.ref.source}:{job.ref.project}#{job.ref.job}"
    return f"event:{event.source.value}:{event.delivery_id}"


def unavailable_analysis(reason: str) -> Analysis:
    """The analysis of a failure whose log could not be read: `reason` says why."""
    # A connector's reason can quote a URL with its credentials.
    return Analysis(
        category=Category.UNKNOWN,
        confidence=0.0,
        summary=redact_text(reason),
        evidence=(),
        log_format="none",
    )


def _analyze_job(job: JobIdentity, *, fetch: Fetch, analyze: Analyze) -> tuple[Analysis, bool]:
    if job.text is not None:
        return _analyze_text(job, job.text, analyze=analyze)
    if job.ref is None:
        return unavailable_analysis(f"logs unavailable: {job.why}"), False
    log = fetch(job.ref)
    if log.status != "ok" or log.text is None:
        return unavailable_analysis(log.reason or "logs unavailable: no reason given"), False
    return _analyze_text(job, log.text, analyze=analyze)


def _analyze_text(job: JobIdentity, text: str, *, analyze: Analyze) -> tuple[Analysis, bool]:
    try:
        return analyze(text), True
    # Any other exception is a bug: it reaches the detector, which keeps it on the event and
    # counts it as an attempt (RECOVEROPS_MAX_ATTEMPTS of them, then the dead letters).
    except RecoverOpsError as error:  # an input the detector refuses is recorded, not raised
        logger.warning("analysis of %s failed: %s", job.target, error)
        return unavailable_analysis(f"analysis failed: {error}"), False
