"""process_event on its own: no Ray, a real SQLite store, logs given by a function."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from recoverops.actors import process_event
from recoverops.actors.process import COVERED_VERB
from recoverops.analysis import Analysis
from recoverops.connectors import JobRef, LogResult
from recoverops.detector import analyze_text
from recoverops.incidents import Event, IncidentStatus, Source
from recoverops.models.classifier import Prediction
from recoverops.models.combine import apply_prediction
from recoverops.models.features import feature_row
from recoverops.store import Store
from recoverops.taxonomy import Category
from tests.actors.conftest import FIXTURES, LOG, failure_body, store_failure

WEBHOOKS = FIXTURES / "webhooks"


def log_ok(ref: JobRef) -> LogResult:
    return LogResult(status="ok", text=LOG.decode())


def log_gone(ref: JobRef) -> LogResult:
    return LogResult.unavailable("GitHub answered 410 (logs expired)")


def test_a_failure_becomes_a_detected_incident(store: Store) -> None:
    event_id = store_failure(store, failure_body())

    outcome = process_event(store, event_id, fetch=log_ok, analyze=analyze_text)

    assert (outcome.status, outcome.category, outcome.logs_available) == (
        "stored",
        Category.DEPLOY_NETWORK,
        True,
    )
    assert outcome.incident_id is not None
    incident = store.get_incident(outcome.incident_id)
    assert incident is not None
    assert incident.target == "github:Codertocat/Hello-World:CodeQL/linters"
    assert incident.status is IncidentStatus.OPEN  # the analyzer takes it on (test_analyzer.py)
    assert any("failed to lookup address" in e["text"] for e in incident.evidence)
    # The model's feature row is kept for retraining on operator feedback.
    assert incident.features == feature_row(analyze_text(LOG.decode()))
    event = store.get_event(event_id)
    assert event is not None and event.incident_id == incident.id


def test_unavailable_logs_become_an_incident_that_says_why(store: Store) -> None:
    event_id = store_failure(store, failure_body())

    outcome = process_event(store, event_id, fetch=log_gone, analyze=analyze_text)

    assert outcome.incident_id is not None and not outcome.logs_available
    incident = store.get_incident(outcome.incident_id)
    assert incident is not None
    assert incident.category is Category.UNKNOWN
    assert incident.status is IncidentStatus.OPEN
    assert incident.analysis is not None
    assert incident.analysis["summary"] == "logs unavailable: GitHub answered 410 (logs expired)"
    assert incident.features is None  # nothing to learn from


def test_reprocessing_an_event_changes_nothing(store: Store) -> None:
    event_id = store_failure(store, failure_body())
    first = process_event(store, event_id, fetch=log_ok, analyze=analyze_text)

    fetched: list[JobRef] = []

    def fetch(ref: JobRef) -> LogResult:
        fetched.append(ref)
        return log_ok(ref)

    again = process_event(store, event_id, fetch=fetch, analyze=analyze_text)

    assert (again.status, again.incident_id) == ("repeat", first.incident_id)
    assert fetched == []
    page = store.list_incidents()
    assert [i.occurrences for i in page.items] == [1]


def test_a_missing_event_is_reported(store: Store) -> None:
    assert process_event(store, 4242, fetch=log_ok, analyze=analyze_text).status == "missing"


def test_repeated_failures_of_a_job_are_one_incident(store: Store) -> None:
    outcomes = [
        process_event(
            store, store_failure(store, failure_body()), fetch=log_ok, analyze=analyze_text
        )
        for _ in range(2)
    ]

    assert [o.status for o in outcomes] == ["stored", "stored"]
    assert outcomes[0].incident_id == outcomes[1].incident_id
    assert [i.occurrences for i in store.list_incidents().items] == [2]


def test_an_event_its_jobs_report_is_recorded_without_an_incident(store: Store) -> None:
    suite = json.loads((WEBHOOKS / "github/check_suite/completed.payload.json").read_text())
    suite["check_suite"]["conclusion"] = "failure"
    event = Event(Source.GITHUB, "check_suite.completed", "cs-1", datetime.now(UTC), "inline")
    payload = {"failure": True, "target": "Codertocat/Hello-World:check_suite/1", "body": suite}
    event_id = store.add_event(event, payload=payload).event_id

    first = process_event(store, event_id, fetch=log_ok, analyze=analyze_text)
    again = process_event(store, event_id, fetch=log_ok, analyze=analyze_text)

    assert (first.status, first.incident_id, again.status) == ("covered", None, "repeat")
    assert store.list_incidents().items == ()
    stored = store.get_event(event_id)
    assert stored is not None and stored.processed_at is not None
    [note] = store.audit_entries(subject=f"event:{event_id}")
    assert (note.verb, note.detail["kind"]) == (COVERED_VERB, "check_suite.completed")
    assert "check runs" in note.detail["why"]


def test_one_failure_is_one_incident_before_and_after_a_model_changes_its_category(
    store: Store,
) -> None:
    def new_champion(text: str) -> Analysis:
        # What a newly promoted model's verdict does to the rules' analysis (serve's refine).
        prediction = Prediction(
            category=Category.BUILD_TEST.value,
            confidence=0.9,
            probabilities={c.value: 0.05 for c in Category},
            anomaly=0.1,
        )
        refined: Analysis = apply_prediction(analyze_text(text), prediction, model="classifier/2")
        return refined

    before = process_event(
        store, store_failure(store, failure_body(job_id=1)), fetch=log_ok, analyze=analyze_text
    )
    after = process_event(
        store, store_failure(store, failure_body(job_id=2)), fetch=log_ok, analyze=new_champion
    )

    assert (before.category, after.category) == (Category.DEPLOY_NETWORK, Category.BUILD_TEST)
    assert before.incident_id == after.incident_id is not None
    [incident] = store.list_incidents().items
    assert (incident.occurrences, incident.category) == (2, Category.BUILD_TEST)
    assert store.incident_timeline(incident.id)[-1].detail == "occurrence 2, now build.test"


def test_failures_without_a_log_are_one_incident_per_job_run(store: Store) -> None:
    runs = [failure_body(job_id=job) for job in (11, 12, 11)]  # job 11 reported twice

    outcomes = [
        process_event(store, store_failure(store, body), fetch=log_gone, analyze=analyze_text)
        for body in runs
    ]

    first, second, again = (o.incident_id for o in outcomes)
    assert first != second and again == first
    incidents = store.list_incidents().items
    assert sorted(i.occurrences for i in incidents) == [1, 2]
    assert {i.target for i in incidents} == {"github:Codertocat/Hello-World:CodeQL/linters"}
