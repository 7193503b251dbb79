"""What the metrics, the analyzer and the source actors read and write: counts, stage times,
unprocessed events, incidents by fingerprint, and a stage recorded once per (incident, event)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recoverops.incidents import Event, IncidentStatus, Source
from recoverops.store import Store
from recoverops.store.stages import ANALYZED_VERB
from recoverops.taxonomy import Category

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def add(
    store: Store, delivery_id: str, *, source: Source = Source.GITHUB, at: datetime = T0
) -> int:
    event = Event(source, "workflow_job.completed", delivery_id, at, "inline")
    return store.add_event(event, payload={"failure": True}).event_id


def incident(store: Store, event_id: int, fingerprint: str, category: Category) -> int:
    upsert = store.upsert_incident(
        fingerprint,
        target=f"t-{fingerprint}",
        category=category,
        source=Source.GITHUB,
        seen_at=T0,
        event_id=event_id,
    )
    return upsert.incident.id


def test_incident_counts_by_category_and_status(store: Store) -> None:
    first = incident(store, add(store, "a"), "f1", Category.BUILD_TEST)
    incident(store, add(store, "b"), "f2", Category.BUILD_TEST)
    incident(store, add(store, "c"), "f3", Category.DEPLOY_NETWORK)
    store.move_incident(first, IncidentStatus.ANALYZED)

    assert store.incident_counts() == {
        ("build.test", "analyzed"): 1,
        ("build.test", "open"): 1,
        ("deploy.network", "open"): 1,
    }


def test_detection_times_are_the_events_that_produced_an_incident(store: Store) -> None:
    now = datetime.now(UTC)
    detected = add(store, "d", at=now - timedelta(seconds=3))
    incident(store, detected, "f", Category.BUILD_TEST)
    settled = add(store, "s", at=now)
    store.mark_event_processed(settled)  # no incident: not a detection
    add(store, "waiting", at=now)  # not processed yet

    times = store.detection_times(since=now - timedelta(minutes=5))

    assert len(times) == 1
    received, processed = times[0]
    assert received == now - timedelta(seconds=3)
    assert processed >= received
    assert store.detection_times(since=datetime.now(UTC) + timedelta(minutes=1)) == []


def test_unprocessed_events_by_source_oldest_first_from_an_id(store: Store) -> None:
    ids = [add(store, f"u{n}") for n in range(3)]
    store.mark_event_processed(ids[1])
    other = add(store, "gl", source=Source.GITLAB)

    assert [e.id for e in store.unprocessed_events(source=Source.GITHUB)] == [ids[0], ids[2]]
    assert [e.id for e in store.unprocessed_events(source=Source.GITHUB, after_id=ids[0])] == [
        ids[2]
    ]
    assert [e.id for e in store.unprocessed_events(source=Source.GITLAB)] == [other]
    assert store.unprocessed_events(source=Source.GITHUB, limit=1)[0].id == ids[0]


def test_newest_event_id_received_before_a_time(store: Store) -> None:
    old = add(store, "old", at=T0)
    add(store, "new", at=T0 + timedelta(hours=1))

    assert (
        store.newest_event_id(source=Source.GITHUB, received_before=T0 + timedelta(1 / 24 / 2))
        == old
    )
    assert store.newest_event_id(source=Source.GITHUB, received_before=T0) is None
    assert (
        store.newest_event_id(source=Source.JENKINS, received_before=T0 + timedelta(days=1)) is None
    )


def test_targets_of_a_category_and_incidents_by_fingerprint(store: Store) -> None:
    a = incident(store, add(store, "a"), "fa", Category.BUILD_TEST)
    incident(store, add(store, "b"), "fb", Category.BUILD_LINT)

    assert store.incident_targets(category=Category.BUILD_TEST) == ["t-fa"]
    assert [i.id for i in store.incidents_by_fingerprint(["fa", "nope"])] == [a]
    assert store.incidents_by_fingerprint([]) == []


def test_a_stage_is_recorded_once_per_incident_and_event(store: Store) -> None:
    event_id = add(store, "e")
    incident_id = incident(store, event_id, "f", Category.BUILD_TEST)
    started = datetime.now(UTC).isoformat()

    def record(move_to: IncidentStatus | None) -> tuple[int, bool] | None:
        done = store.record_stage(
            incident_id,
            event_id=event_id,
            actor="analyzer",
            verb=ANALYZED_VERB,
            key="context",
            result={"occurrences": 1},
            stage="context",
            detail="first occurrence",
            move_to=move_to,
            audit_extra={"started_at": started},
        )
        return None if done is None else (done.audit_id, done.recorded)

    first = record(IncidentStatus.ANALYZED)
    again = record(IncidentStatus.ANALYZED)

    assert first is not None and first[1] is True
    assert again == (first[0], False)
    stored = store.get_incident(incident_id)
    assert stored is not None and stored.status is IncidentStatus.ANALYZED
    assert stored.analysis == {"context": {"occurrences": 1}}
    stages = [e.stage for e in store.incident_timeline(incident_id)]
    assert stages == ["open", "analyzed"]
    entries = store.audit_entries(verb=ANALYZED_VERB)
    assert [e.detail["event_id"] for e in entries] == [event_id]
    times = store.stage_times(verb=ANALYZED_VERB, since=datetime.now(UTC) - timedelta(minutes=1))
    assert len(times) == 1 and times[0][1] >= times[0][0]
    assert (
        store.record_stage(
            4242,
            event_id=event_id,
            actor="a",
            verb=ANALYZED_VERB,
            key="k",
            result={},
            stage="s",
            detail="",
        )
        is None
    )


def test_a_stage_that_cannot_move_the_incident_notes_it_on_the_timeline(store: Store) -> None:
    first, second = add(store, "1"), add(store, "2")
    incident_id = incident(store, first, "f", Category.BUILD_TEST)
    incident(store, second, "f", Category.BUILD_TEST)  # a recurrence of the same fingerprint
    for event_id in (first, second):
        store.record_stage(
            incident_id,
            event_id=event_id,
            actor="analyzer",
            verb=ANALYZED_VERB,
            key="context",
            result={"event": event_id},
            stage="context",
            detail=f"event {event_id}",
            move_to=IncidentStatus.ANALYZED,
        )

    timeline = store.incident_timeline(incident_id)
    assert [(e.stage, e.detail) for e in timeline][-2:] == [
        ("analyzed", f"event {first}"),
        ("context", f"event {second}"),
    ]
    stored = store.get_incident(incident_id)
    assert stored is not None and stored.analysis == {"context": {"event": second}}


def test_audit_entries_filter_by_verb_and_time(store: Store) -> None:
    store.audit("a", "one", subject="s", detail={})
    store.audit("a", "two", subject="s", detail={})

    assert [e.verb for e in store.audit_entries(verb="two")] == ["two"]
    assert store.audit_entries(since=datetime.now(UTC) + timedelta(minutes=1)) == []
