"""Events are stored once per (source, delivery id), however many times and threads deliver them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError

from recoverops.incidents import Event, Source
from recoverops.store import EventAdded, Store

RECEIVED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
THREADS = 8


def github_event(delivery_id: str, *, received_at: datetime = RECEIVED) -> Event:
    return Event(
        source=Source.GITHUB,
        kind="workflow_run",
        delivery_id=delivery_id,
        received_at=received_at,
        payload_ref=f"payloads/{delivery_id}.json",
    )


def test_a_redelivery_returns_the_first_id(store: Store) -> None:
    first = store.add_event(github_event("d-1"), payload={"action": "completed"})
    again = store.add_event(github_event("d-1"), payload={"action": "completed"})

    assert first.created and not again.created
    assert again.event_id == first.event_id
    stored = store.get_event(first.event_id)
    assert stored is not None
    assert stored.payload == {"action": "completed"}
    assert stored.received_at == RECEIVED
    assert stored.processed_at is None


def test_the_same_delivery_id_from_another_source_is_another_event(store: Store) -> None:
    github = store.add_event(github_event("42"))
    gitlab = store.add_event(
        Event(Source.GITLAB, "pipeline", "42", RECEIVED, "payloads/gitlab-42.json")
    )
    assert github.created and gitlab.created
    assert github.event_id != gitlab.event_id
    found = store.find_event(Source.GITLAB, "42")
    assert found is not None and found.id == gitlab.event_id


def test_concurrent_deliveries_of_one_event_store_it_once(store: Store) -> None:
    start = threading.Barrier(THREADS)

    def deliver(_: int) -> EventAdded:
        start.wait()
        return store.add_event(github_event("racy"), payload={"n": 1})

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(deliver, range(THREADS)))

    assert sum(result.created for result in results) == 1
    assert len({result.event_id for result in results}) == 1


def test_concurrent_deliveries_of_many_events_store_each_once(store: Store) -> None:
    deliveries = [f"d-{n}" for n in range(20)]
    start = threading.Barrier(THREADS)

    def deliver_all(_: int) -> list[EventAdded]:
        start.wait()
        return [store.add_event(github_event(delivery)) for delivery in deliveries]

    with ThreadPoolExecutor(THREADS) as pool:
        results = [added for batch in pool.map(deliver_all, range(THREADS)) for added in batch]

    assert sum(added.created for added in results) == len(deliveries)
    assert len({added.event_id for added in results}) == len(deliveries)


def test_times_come_back_in_utc(store: Store) -> None:
    tokyo = timezone(timedelta(hours=9))
    added = store.add_event(github_event("tz", received_at=RECEIVED.astimezone(tokyo)))
    stored = store.get_event(added.event_id)
    assert stored is not None
    assert stored.received_at == RECEIVED
    assert stored.received_at.tzinfo == UTC


def test_a_naive_time_is_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        store.add_event(github_event("naive", received_at=RECEIVED.replace(tzinfo=None)))


def test_an_event_is_marked_processed_once(store: Store) -> None:
    added = store.add_event(github_event("success"))
    assert store.mark_event_processed(added.event_id)
    assert not store.mark_event_processed(added.event_id)
    stored = store.get_event(added.event_id)
    assert stored is not None and stored.processed_at is not None


def queued_as(event_id: int) -> tuple[str, dict[str, int]]:
    return f"event:{event_id}", {"event_id": event_id}


def test_an_event_and_its_message_are_stored_together_once(store: Store) -> None:
    first, queued = store.add_event_and_enqueue(
        github_event("d-9"), payload={"a": 1}, queue="events", message=queued_as, now=RECEIVED
    )
    again, queued_again = store.add_event_and_enqueue(
        github_event("d-9"), payload={"a": 1}, queue="events", message=queued_as, now=RECEIVED
    )

    assert first.created and queued
    assert not again.created and not queued_again and again.event_id == first.event_id
    (entry,) = store.outbox_claim(
        "events", consumer="c", limit=10, now=RECEIVED, lease_until=RECEIVED + timedelta(1)
    )
    assert entry.dedup_key == f"event:{first.event_id}"
    assert entry.payload == {"event_id": first.event_id}


def test_an_event_whose_message_fails_is_not_stored_either(store: Store) -> None:
    def broken(event_id: int) -> tuple[str, dict[str, int]]:
        raise RuntimeError(f"cannot queue {event_id}")

    with pytest.raises(RuntimeError, match="cannot queue"):
        store.add_event_and_enqueue(
            github_event("d-10"), payload=None, queue="events", message=broken, now=RECEIVED
        )

    assert store.find_event(Source.GITHUB, "d-10") is None
    assert store.outbox_depth("events", now=RECEIVED) == (0, 0)
