"""Every queue delivers at least once, and with the store's keys, processes exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from recoverops.incidents import Event, Source, fingerprint
from recoverops.queue import Message, QueueDepth
from recoverops.store import IncidentUpsert, Store
from recoverops.taxonomy import Category
from tests.queue.queue_harness import QueueUnderTest


def test_claimed_messages_come_oldest_first_and_ack_removes_them(
    queue_under_test: QueueUnderTest,
) -> None:
    queue = queue_under_test.queue
    for n in range(3):
        assert queue.enqueue(f"k{n}", {"n": n})
    assert queue.depth() == QueueDepth(waiting=3, in_flight=0)

    batch = queue.claim("worker-a", limit=2)
    assert [(m.key, m.payload) for m in batch] == [("k0", {"n": 0}), ("k1", {"n": 1})]
    assert queue.depth() == QueueDepth(waiting=1, in_flight=2)

    assert queue.ack(batch) == 2
    assert queue.depth() == QueueDepth(waiting=1, in_flight=0)

    rest = queue.claim("worker-a", limit=10)
    assert [m.key for m in rest] == ["k2"]
    assert queue.ack(rest) == 1
    assert queue.depth() == QueueDepth(waiting=0, in_flight=0)
    assert queue.depth().total == 0
    assert queue.claim("worker-a") == []


def test_a_key_is_queued_once_until_acked(queue_under_test: QueueUnderTest) -> None:
    queue = queue_under_test.queue
    assert queue.enqueue("delivery-1", {"first": True})
    assert not queue.enqueue("delivery-1", {"first": False})

    batch = queue.claim("worker-a")
    assert [m.payload for m in batch] == [{"first": True}]
    assert not queue.enqueue("delivery-1", {"first": False})  # still being worked on

    queue.ack(batch)
    assert queue.enqueue("delivery-1", {"again": True})
    assert queue.depth().waiting == 1


def test_acking_twice_or_nothing_is_harmless(queue_under_test: QueueUnderTest) -> None:
    queue = queue_under_test.queue
    queue.enqueue("k", {})
    batch = queue.claim("worker-a")
    assert queue.ack(batch) == 1
    assert queue.ack(batch) == 0
    assert queue.ack([]) == 0


def test_a_dead_consumers_message_is_reclaimed_and_processed_once(
    queue_under_test: QueueUnderTest,
) -> None:
    queue, store = queue_under_test.queue, queue_under_test.store
    event = Event(Source.GITHUB, "workflow_run", "d-1", datetime.now(UTC), "payloads/d-1")
    event_id = store.add_event(event).event_id
    queue.enqueue(event.delivery_id, {"event_id": event_id})

    # Worker A claims and processes the event, then dies before it acks.
    [taken_by_a] = queue.claim("worker-a")
    assert process(store, taken_by_a).counted

    # Worker B gets nothing while A's lease holds, and the message once it has run out.
    assert queue.claim("worker-b") == []
    reclaimed = queue_under_test.claim_after_leases_expire("worker-b")
    assert [m.key for m in reclaimed] == ["d-1"]
    assert reclaimed[0].payload == {"event_id": event_id}

    # B processes it again, which changes nothing, and acks.
    again = process(store, reclaimed[0])
    assert not again.counted
    assert again.incident.occurrences == 1
    assert queue.ack(reclaimed) == 1
    assert queue.depth() == QueueDepth(waiting=0, in_flight=0)
    assert queue.ack([taken_by_a]) == 0  # A's ghost, were it to come back


def test_concurrent_consumers_each_get_distinct_messages(queue_under_test: QueueUnderTest) -> None:
    queue = queue_under_test.queue
    keys = [f"k{n}" for n in range(40)]
    for key in keys:
        queue.enqueue(key, {"key": key})
    consumers = 4
    start = threading.Barrier(consumers)

    def consume(consumer: int) -> list[str]:
        start.wait()
        seen: list[str] = []
        while batch := queue.claim(f"worker-{consumer}", limit=3):
            seen.extend(message.key for message in batch)
            queue.ack(batch)
        return seen

    with ThreadPoolExecutor(consumers) as pool:
        deliveries = Counter(key for seen in pool.map(consume, range(consumers)) for key in seen)

    assert deliveries == Counter(keys)
    assert queue.depth().total == 0


def process(store: Store, message: Message) -> IncidentUpsert:
    """What a detector does with an event message, reduced to the store write that matters."""
    return store.upsert_incident(
        fingerprint(target="octo/app:build", template_ids=["t1"]),
        target="octo/app:build",
        category=Category.BUILD_TEST,
        source=Source.GITHUB,
        event_id=message.payload["event_id"],
    )
