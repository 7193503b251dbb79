"""Occurrences group by fingerprint, recurrences reopen per the domain, and nothing counts twice."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from recoverops.analysis import Analysis, Evidence
from recoverops.errors import InvalidTransitionError
from recoverops.incidents import Event, IncidentStatus, Source, fingerprint
from recoverops.store import IncidentUpsert, Store
from recoverops.taxonomy import Category

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TARGET = "octo/app:build"
FINGERPRINT = fingerprint(target=TARGET, template_ids=["t1", "t2"])


def stored_event(store: Store, delivery_id: str) -> int:
    event = Event(Source.GITHUB, "workflow_run", delivery_id, T0, f"payloads/{delivery_id}")
    return store.add_event(event).event_id


def occur(store: Store, *, event_id: int | None = None, at: datetime = T0) -> IncidentUpsert:
    return store.upsert_incident(
        FINGERPRINT,
        target=TARGET,
        category=Category.BUILD_TEST,
        source=Source.GITHUB,
        seen_at=at,
        event_id=event_id,
    )


def test_repeats_of_a_fingerprint_are_one_incident(store: Store) -> None:
    first = occur(store, at=T0)
    second = occur(store, at=T0 + timedelta(minutes=5))

    assert first.created and not second.created
    assert second.incident.id == first.incident.id
    assert second.incident.occurrences == 2
    assert second.incident.status is IncidentStatus.OPEN
    assert (second.incident.first_seen, second.incident.last_seen) == (
        T0,
        T0 + timedelta(minutes=5),
    )
    stages = [entry.stage for entry in store.incident_timeline(first.incident.id)]
    assert stages == ["open", "recurred"]


def test_the_same_event_is_counted_once(store: Store) -> None:
    event_id = stored_event(store, "d-1")
    first = occur(store, event_id=event_id)
    again = occur(store, event_id=event_id)

    assert first.counted and not again.counted
    assert again.incident.occurrences == 1
    event = store.get_event(event_id)
    assert event is not None
    assert event.incident_id == first.incident.id and event.processed_at is not None


def test_concurrent_occurrences_are_all_counted_on_one_incident(store: Store) -> None:
    threads = 6
    event_ids = [stored_event(store, f"d-{n}") for n in range(threads)]
    start = threading.Barrier(threads)

    def record(event_id: int) -> IncidentUpsert:
        start.wait()
        return occur(store, event_id=event_id)

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(record, event_ids))

    assert sum(result.created for result in results) == 1
    assert len({result.incident.id for result in results}) == 1
    incident = store.get_incident(results[0].incident.id)
    assert incident is not None and incident.occurrences == threads


def test_concurrent_processing_of_one_event_counts_it_once(store: Store) -> None:
    threads = 6
    event_id = stored_event(store, "reclaimed")
    start = threading.Barrier(threads)

    def record(_: int) -> IncidentUpsert:
        start.wait()
        return occur(store, event_id=event_id)

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(record, range(threads)))

    assert sum(result.counted for result in results) == 1
    assert {result.incident.occurrences for result in results} == {1}


def test_a_resolved_incident_that_recurs_is_reopened(store: Store) -> None:
    incident_id = occur(store).incident.id
    store.move_incident(incident_id, IncidentStatus.ANALYZED, detail="build.test")
    store.move_incident(incident_id, IncidentStatus.RESOLVED, detail="rerun passed")

    # The moves are timed by the store's clock (now), so the recurrence comes after them.
    recurred = occur(store, at=datetime.now(UTC))

    assert recurred.incident.id == incident_id
    assert recurred.incident.status is IncidentStatus.REOPENED
    assert recurred.incident.occurrences == 2
    stages = [entry.stage for entry in store.incident_timeline(incident_id)]
    assert stages[0] == "open"
    assert stages[-1] == "reopened"
    assert {"analyzed", "resolved"} <= set(stages)


def test_an_impossible_move_is_refused_and_changes_nothing(store: Store) -> None:
    incident_id = occur(store).incident.id
    with pytest.raises(InvalidTransitionError):
        store.move_incident(incident_id, IncidentStatus.RESOLVED)
    incident = store.get_incident(incident_id)
    assert incident is not None and incident.status is IncidentStatus.OPEN
    assert [entry.stage for entry in store.incident_timeline(incident_id)] == ["open"]


def test_unknown_incidents_are_none(store: Store) -> None:
    assert store.get_incident(999) is None
    assert store.move_incident(999, IncidentStatus.ANALYZED) is None
    assert store.incident_timeline(999) == []


def test_the_latest_analysis_and_its_evidence_are_kept(store: Store) -> None:
    analysis = Analysis(
        category=Category.BUILD_TEST,
        confidence=0.9,
        summary="2 tests failed",
        evidence=(Evidence(line=41, text="FAILED tests/test_app.py::test_login"),),
        log_format="github-actions",
    )
    store.upsert_incident(
        FINGERPRINT,
        target=TARGET,
        category=Category.BUILD_TEST,
        source=Source.GITHUB,
        seen_at=T0,
        analysis=analysis,
    )
    incident = store.list_incidents(limit=1).items[0]
    assert incident.analysis is not None
    assert incident.analysis["summary"] == "2 tests failed"
    assert incident.evidence == ({"line": 41, "text": "FAILED tests/test_app.py::test_login"},)


def test_audit_entries_are_kept_newest_first(store: Store) -> None:
    store.audit("policy:default", "approved", subject="action:1", detail={"risk": "low"})
    store.audit("alice", "rolled_back", subject="action:1", detail={})
    store.audit("alice", "approved", subject="action:2", detail={})

    entries = store.audit_entries(subject="action:1")
    assert [(entry.actor, entry.verb) for entry in entries] == [
        ("alice", "rolled_back"),
        ("policy:default", "approved"),
    ]
    assert entries[1].detail == {"risk": "low"}
