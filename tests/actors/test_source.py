"""The source actor's sweep on its own: no Ray, a real SQLite store and its outbox queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recoverops.actors import sweep
from recoverops.incidents import Event, Source
from recoverops.queue import OutboxQueue
from recoverops.queue.base import queue_key
from recoverops.store import Store
from tests.actors.conftest import failure_body, store_failure

GRACE = timedelta(seconds=30)
LONG_AGO = datetime.now(UTC) - timedelta(minutes=5)


def sweep_github(store: Store, queue: OutboxQueue, floor: int = 0) -> tuple[int, int, int, int]:
    done = sweep(store, queue, source=Source.GITHUB, floor=floor, grace=GRACE, limit=50)
    return done.enqueued, done.queued, done.settled, done.young


def test_a_stored_failure_that_was_never_queued_is_queued_once(store: Store) -> None:
    queue = OutboxQueue(store, name="events")
    lost = store_failure(store, failure_body(), received_at=LONG_AGO)

    assert sweep_github(store, queue) == (1, 0, 0, 0)
    assert sweep_github(store, queue) == (0, 1, 0, 0)  # still queued: refused, not doubled
    [message] = queue.claim("detector")
    assert message.payload == {
        "event_id": lost,
        "source": "github",
        "kind": "workflow_job.completed",
    }
    assert message.key == queue_key(lost)  # the key ingestion uses, so neither doubles the other


def test_young_events_are_left_to_ingestion_and_non_failures_are_settled(store: Store) -> None:
    queue = OutboxQueue(store, name="events")
    store_failure(store, failure_body())  # just stored: ingestion may be queueing it now
    green = Event(Source.GITHUB, "workflow_job.completed", "green", LONG_AGO, "inline")
    settled = store.add_event(green, payload={"failure": False}).event_id
    other = Event(Source.GITLAB, "job", "gl", LONG_AGO, "inline")
    store.add_event(other, payload={"failure": True})

    assert sweep_github(store, queue) == (0, 0, 1, 1)
    assert queue.depth().total == 0
    event = store.get_event(settled)
    assert event is not None and event.processed_at is not None


def test_the_floor_moves_past_what_is_processed(store: Store) -> None:
    queue = OutboxQueue(store, name="events")
    first = store_failure(store, failure_body(), received_at=LONG_AGO)
    store.mark_event_processed(first)
    second = store_failure(store, failure_body(), received_at=LONG_AGO)

    done = sweep(store, queue, source=Source.GITHUB, grace=GRACE, limit=50)
    assert (done.enqueued, done.floor) == (1, second - 1)  # the queued one is still open
    store.mark_event_processed(second)
    later = sweep(store, queue, source=Source.GITHUB, floor=done.floor, grace=GRACE, limit=50)
    assert (later.enqueued, later.floor) == (0, second)
