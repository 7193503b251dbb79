"""Taking in one delivery: store the raw event, then queue it if it reports a failure.

The event is stored before anything is acknowledged. Every event is stored (a green run is
history the analyzer will want); only failures are queued for the detectors, and an event with
nothing to do is marked processed at once. A redelivery finds the event stored and queues it
only if it is a failure not yet processed (the first attempt may have died before queueing);
the queue refuses a key it already holds, so a redelivery never queues an event twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from recoverops.incidents import Event, Source
from recoverops.store import Store

from .services import QueueHandle
from .webhooks import Delivery

# The payload lives in the event row itself.
PAYLOAD_INLINE = "inline"


@dataclass(frozen=True, slots=True)
class Ingested:
    event_id: int
    redelivery: bool
    queued: bool  # this call put the event on the queue


def queue_key(event_id: int) -> str:
    return f"event:{event_id}"


def ingest(store: Store, queue: QueueHandle, *, source: Source, delivery: Delivery) -> Ingested:
    event = Event(
        source=source,
        kind=delivery.kind,
        delivery_id=delivery.delivery_id,
        received_at=datetime.now(UTC),
        payload_ref=PAYLOAD_INLINE,
    )
    added = store.add_event(event, payload=delivery.stored_payload())
    if not delivery.failure:
        if added.created:
            store.mark_event_processed(added.event_id)
        return Ingested(added.event_id, redelivery=not added.created, queued=False)
    if not added.created:
        stored = store.get_event(added.event_id)
        if stored is not None and stored.processed_at is not None:
            return Ingested(added.event_id, redelivery=True, queued=False)
    queued = queue.get().enqueue(
        queue_key(added.event_id),
        {"event_id": added.event_id, "source": source.value, "kind": delivery.kind},
    )
    return Ingested(added.event_id, redelivery=not added.created, queued=queued)
