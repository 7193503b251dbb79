"""The analyze stage on its own: no Ray, a real SQLite store, incidents made by process_event."""

from __future__ import annotations

from collections.abc import Callable

from recoverops.actors import analyze_incident, process_event
from recoverops.actors.analyzer import failure_templates
from recoverops.connectors import JobRef, LogResult
from recoverops.detector import analyze_text
from recoverops.incidents import IncidentStatus
from recoverops.store import Store
from recoverops.store.stages import ANALYZED_VERB
from tests.actors.conftest import LOG, failure_body, store_failure


def log_ok(ref: JobRef) -> LogResult:
    return LogResult(status="ok", text=LOG.decode())


def log_gone(ref: JobRef) -> LogResult:
    return LogResult.unavailable("GitHub answered 410 (logs expired)")


def detect(
    store: Store, *, job_id: int, name: str, fetch: Callable[[JobRef], LogResult] = log_ok
) -> tuple[int, int]:
    """A failure of job `name`, stored and detected: (incident id, event id)."""
    event_id = store_failure(store, failure_body(job_id=job_id, name=name))
    outcome = process_event(store, event_id, fetch=fetch, analyze=analyze_text)
    assert outcome.incident_id is not None
    return outcome.incident_id, event_id


def test_a_detected_incident_is_analyzed_with_its_context(store: Store) -> None:
    first, _ = detect(store, job_id=1, name="build")
    second, event_id = detect(store, job_id=2, name="test")  # same failure, another job

    record = analyze_incident(store, second, event_id=event_id)

    assert record is not None and record.recorded
    incident = store.get_incident(second)
    assert incident is not None and incident.status is IncidentStatus.ANALYZED
    assert incident.analysis is not None
    context = incident.analysis["context"]
    assert context["occurrences"] == 1
    assert context["signature"] == "verified"
    assert [o["incident_id"] for o in context["same_failure_elsewhere"]] == [first]
    assert context["other_incidents_of_target"] == 0
    analyzed = [e for e in store.incident_timeline(second) if e.stage == "analyzed"]
    assert len(analyzed) == 1
    assert "the same failure on 1 other target(s): github:" in analyzed[0].detail
    [entry] = store.audit_entries(subject=f"incident:{second}", verb=ANALYZED_VERB)
    assert entry.detail["event_id"] == event_id
    assert entry.detail["started_at"]  # when the incident was stored: the stage's start


def test_the_stage_is_recorded_once_per_event(store: Store) -> None:
    incident_id, event_id = detect(store, job_id=1, name="build")

    first = analyze_incident(store, incident_id, event_id=event_id)
    again = analyze_incident(store, incident_id, event_id=event_id)

    assert first is not None and again is not None
    assert (again.recorded, again.audit_id) == (False, first.audit_id)
    assert len(store.incident_timeline(incident_id)) == 2  # open, analyzed


def test_a_recurrence_adds_context_to_an_analyzed_incident(store: Store) -> None:
    incident_id, first = detect(store, job_id=1, name="build")
    analyze_incident(store, incident_id, event_id=first)
    again, second = detect(store, job_id=1, name="build")

    analyze_incident(store, incident_id, event_id=second)

    assert again == incident_id
    incident = store.get_incident(incident_id)
    assert incident is not None and incident.analysis is not None
    assert incident.analysis["context"]["occurrences"] == 2
    last = store.incident_timeline(incident_id)[-1]
    assert last.stage == "context" and last.detail.endswith("not seen on other targets")
    assert "occurrence 2 since" in last.detail


def test_an_incident_without_a_log_waits_for_it_and_says_why(store: Store) -> None:
    incident_id, event_id = detect(store, job_id=1, name="build", fetch=log_gone)

    analyze_incident(store, incident_id, event_id=event_id)

    incident = store.get_incident(incident_id)
    assert incident is not None and incident.status is IncidentStatus.LOGS_UNAVAILABLE
    assert failure_templates(incident) == frozenset()
    assert incident.analysis is not None
    assert incident.analysis["context"]["signature"] == "unavailable"
    last = store.incident_timeline(incident_id)[-1]
    assert last.stage == "logs_unavailable"
    assert last.detail.startswith("logs unavailable: GitHub answered 410 (logs expired)")


def test_a_missing_incident_is_reported(store: Store) -> None:
    assert analyze_incident(store, 4242, event_id=1) is None
