"""Taking in one delivery: store the raw event, then queue it if it reports a failure.

On the outbox queue a failure is stored and queued in one transaction (the transactional
outbox); on Redis it is stored, then queued, and the source actors' sweep queues any failure a
dying process left stored but unqueued.

The event is stored before anything is acknowledged. Every event is stored (a green run is
history the analyzer will want); only failures are queued for the detectors, and an event with
nothing to do is marked processed at once. A redelivery finds the event stored and queues it
only if it is a failure not yet processed (the first attempt may have died before queueing);
the queue refuses a key it already holds, so a redelivery never queues an event twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from recoverops.incidents import Event, Source
from recoverops.observability import tracing
from recoverops.queue import event_message
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


def ingest(store: Store, queue: QueueHandle, *, source: Source, delivery: Delivery) -> Ingested:
    """Store the delivery and queue it if it is a failure, in the trace's first span (the
    queued message carries its context to the detector)."""
    attributes = {"recoverops.source": source.value, "recoverops.delivery": delivery.delivery_id}
    with tracing.span("recoverops.webhook", attributes=attributes) as current:
        ingested = _ingest(store, queue, source=source, delivery=delivery)
        if current is not None:
            current.set_attribute("recoverops.event_id", ingested.event_id)
            current.set_attribute("recoverops.queued", ingested.queued)
        return ingested


def _ingest(store: Store, queue: QueueHandle, *, source: Source, delivery: Delivery) -> Ingested:
    event = Event(
        source=source,
        kind=delivery.kind,
        delivery_id=delivery.delivery_id,
        received_at=datetime.now(UTC),
        payload_ref=PAYLOAD_INLINE,
    )
    outbox = queue.outbox() if delivery.failure else None
    if outbox is not None:
        # Stored and queued in one transaction: a failure is never stored without being queued.
        added, queued = outbox.add_event_and_enqueue(
            event,
            payload=delivery.stored_payload(),
            message=partial(event_message, source=source, kind=delivery.kind),
        )
        if added.created:
            return Ingested(added.event_id, redelivery=False, queued=queued)
    else:
        added = store.add_event(event, payload=delivery.stored_payload())
    if not delivery.failure:
        if added.created:
            store.mark_event_processed(added.event_id)
        return Ingested(added.event_id, redelivery=not added.created, queued=False)
    if not added.created:
        stored = store.get_event(added.event_id)
        if stored is not None and stored.processed_at is not None:
            return Ingested(added.event_id, redelivery=True, queued=False)
    queued = queue.get().enqueue(*event_message(added.event_id, source, delivery.kind))
    return Ingested(added.event_id, redelivery=not added.created, queued=queued)
