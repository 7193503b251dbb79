"""The analyze stage says whether a failure is new or recurring (no Ray: a real SQLite store)."""

from __future__ import annotations

from recoverops.actors import analyze_incident
from recoverops.store import Store
from tests.actors.test_analyzer import detect


def test_a_failure_is_new_then_recurring_with_how_often(store: Store) -> None:
    incident_id, first = detect(store, job_id=1, name="build")
    analyze_incident(store, incident_id, event_id=first)
    incident = store.get_incident(incident_id)
    assert incident is not None and incident.analysis is not None
    assert incident.analysis["context"]["history"]["status"] == "new"

    _, second = detect(store, job_id=1, name="build")
    analyze_incident(store, incident_id, event_id=second)

    incident = store.get_incident(incident_id)
    assert incident is not None and incident.analysis is not None
    history = incident.analysis["context"]["history"]
    assert (history["status"], history["occurrences"]) == ("recurring", 2)
    # no CI run was recorded for these events (no commit, no branch): unknown, not guessed
    assert history["flaky"] is None and history["broken_trunk"] is None
