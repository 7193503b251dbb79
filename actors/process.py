"""One queued event to one stored incident: the detector's work, with no Ray in it.

    stored event ─► job identity ─► fetch log ─► analyze ─► fingerprint ─► upsert incident
                                  (unavailable: an incident of that job run that says why,
                                   category unknown; a later delivery of the run that brings
                                   its log lands the analysis on that incident)
                                  (covered: the event echoes its jobs' own events; recorded,
                                   marked processed, no incident; see `jobs`)

The incident is stored open ("detected"); the analyzer (`analyzer.analyze_incident`) takes it
through the analyze stage to `analyzed`, or to `logs_unavailable` when its log was not read
(`log_retry` fetches it again later).

The incident keeps the analysis's model feature row too, so operator feedback on it becomes a
training example (`recoverops.training.incident_data`) without the log being kept.

Idempotent: the store counts an occurrence once per event and marks the event processed in the
same transaction, so an event processed twice (a reclaimed queue entry) changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from recoverops.analysis import Analysis
from recoverops.connectors import JobRef, LogResult
from recoverops.correlation import Correlator, Identity
from recoverops.errors import RecoverOpsError
from recoverops.incidents import IncidentStatus, fingerprint
from recoverops.models.features import feature_row
from recoverops.redaction import redact_text
from recoverops.store import Store, StoredEvent, StoredIncident
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
# Where an anomaly's reason is kept in the incident's analysis, and its audit verb and stage.
ANOMALY_KEY = "anomaly_reason"
ANOMALY_VERB = "incident.anomaly"
ANOMALY_STAGE = "anomaly"


@dataclass(frozen=True, slots=True)
class Outcome:
    event_id: int
    status: OutcomeStatus
    incident_id: int | None = None
    category: Category | None = None
    logs_available: bool = False


def process_event(
    store: Store,
    event_id: int,
    *,
    fetch: Fetch,
    analyze: Analyze,
    correlator: Correlator | None = None,
) -> Outcome:
    """Take the stored event `event_id` to its incident, at most once. With a `correlator`, a
    watched failure that names its workload is put down to the deploy that broke it, if any
    (`recoverops.correlation`)."""
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
    analysis, available = analyze_job(job, fetch=fetch, analyze=analyze)
    if job.anomaly is not None:
        reason = str(job.anomaly.get("detail") or "an anomaly")
        analysis = replace(analysis, summary=f"Anomaly: {reason}. {analysis.summary}")
    if available:
        _land_on_waiting(store, event, job, analysis)
    identity = Identity.from_json(job.identity)
    own = incident_fingerprint(event, job, analysis)
    if correlator is not None:
        merged = _merge(store, correlator, event, job, analysis, own=own, identity=identity)
        if merged is not None:
            return Outcome(
                event_id,
                "stored",
                incident_id=merged.id,
                category=merged.category,
                logs_available=available,
            )
    upsert = store.upsert_incident(
        own,
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
    if upsert.counted and job.anomaly is not None:
        store.record_stage(
            incident.id,
            event_id=event.id,
            actor=DETECTOR,
            verb=ANOMALY_VERB,
            key=ANOMALY_KEY,
            result=dict(job.anomaly),
            stage=ANOMALY_STAGE,
            detail=str(job.anomaly.get("detail") or ""),
        )
    if correlator is not None and identity is not None:
        correlator.after_failure(incident.id, identity)
    elif correlator is not None and upsert.counted:
        correlator.after_ci_failure(event, incident.id)
    return Outcome(
        event_id,
        "stored" if upsert.counted else "repeat",
        incident_id=incident.id,
        category=incident.category,
        logs_available=available,
    )


def _merge(
    store: Store,
    correlator: Correlator,
    event: StoredEvent,
    job: JobIdentity,
    analysis: Analysis,
    *,
    own: str,
    identity: Identity | None,
) -> StoredIncident | None:
    """Count the failure on the incident of the other side of a failed deploy and the crash it
    caused (`Correlator.merged_into`), with its evidence; that incident, or None."""
    home = correlator.merged_into(event, fingerprint=own, identity=identity)
    if home is None:
        return None
    # A side whose log was not read says why, in place of its lines.
    evidence = analysis.to_json()["evidence"] or [{"line": None, "text": analysis.summary}]
    attached = store.attach_occurrence(
        home,
        event_id=event.id,
        seen_at=event.received_at,
        side=job.target,
        evidence=evidence,
        detail=f"{job.target}: {analysis.summary[:300]}",
    )
    if not attached:
        return None
    if identity is not None:
        correlator.after_failure(home, identity, at=event.received_at)
    return store.get_incident(home)


def incident_fingerprint(event: StoredEvent, job: JobIdentity, analysis: Analysis) -> str:
    """The fingerprint of the incident of this event's failure, as `analysis` found it; a
    watched failure's is its target and cause, whatever pod or log lines its text names."""
    if job.cause is not None:
        return fingerprint(target=job.target, template_ids=(), run=f"cause:{job.cause}")
    return fingerprint(target=job.target, template_ids=analysis.templates, run=_run_of(event, job))


def _land_on_waiting(
    store: Store, event: StoredEvent, job: JobIdentity, analysis: Analysis
) -> None:
    """A job run's log that comes with a later delivery (a replay, a redelivery) lands on the
    run's incident if that one waits for its log, as a retry's would; the occurrence is then
    counted on it under the failure's fingerprint. When the failure has an incident already,
    the occurrence is counted there, and the waiting incident's own retry fetches its log."""
    waiting = fingerprint(target=job.target, template_ids=(), run=_run_of(event, job))
    failure = incident_fingerprint(event, job, analysis)
    found = {i.fingerprint: i for i in store.incidents_by_fingerprint([waiting, failure])}
    run_incident = found.get(waiting)
    if run_incident is None or failure in found:
        return
    if run_incident.status is IncidentStatus.LOGS_UNAVAILABLE:
        store.land_log(
            run_incident.id,
            note=f"log fetched and analyzed with event {event.id}",
            fingerprint=failure,
            analysis=analysis,
            features=feature_row(analysis),
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


def analyze_job(job: JobIdentity, *, fetch: Fetch, analyze: Analyze) -> tuple[Analysis, bool]:
    """The job's log analyzed, and whether it was (False: the analysis says why it was not).
    A watched failure brings its text (`recoverops.sources`): nothing is fetched for it."""
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
