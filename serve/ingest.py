"""Taking in one delivery: store the raw event, then queue it if it reports a failure.

On the outbox queue a failure is stored and queued in one transaction (the transactional
outbox); on Redis it is stored, then queued, and the source actors' sweep queues any failure a
dying process left stored but unqueued.

The event is stored before anything is acknowledged. Every event is stored (a green run is
history the analyzer will want); only failures are queued for the detectors, and an event with
nothing to do is marked processed at once. A redelivery finds the event stored and queues it
only if it is a failure not yet processed (the first attempt may have died before queueing);
the queue refuses a key it already holds, so a redelivery never queues an event twice.

A finished run of a job, passing or failing, is also recorded as a CI run (`recoverops.ci_runs`:
commit, branch, attempt, outcome), without analysis: what a later failure's history reads. It is
recorded in the event's own transaction, so the detector never sees a failure without its run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from recoverops.ci_runs import run_facts
from recoverops.correlation import CorrelationRules, recognise
from recoverops.correlation.link import record_deploy
from recoverops.diagnosis.passed_later import reconsider
from recoverops.incidents import Event, Source
from recoverops.observability import tracing
from recoverops.queue import event_message
from recoverops.store import Store

from .services import QueueHandle
from .webhooks import Delivery

log = logging.getLogger(__name__)

# The payload lives in the event row itself.
PAYLOAD_INLINE = "inline"


@dataclass(frozen=True, slots=True)
class Ingested:
    event_id: int
    redelivery: bool
    queued: bool  # this call put the event on the queue


def ingest(
    store: Store,
    queue: QueueHandle,
    *,
    source: Source,
    delivery: Delivery,
    deploys: CorrelationRules | None = None,
) -> Ingested:
    """Store (and queue) the delivery, in the trace's first span (the queued message carries its
    context to the detector); with `deploys`, a CI run that deploys is recorded as a deploy
    marker too, successful or not, and linked to the failures it came before."""
    attributes = {"recoverops.source": source.value, "recoverops.delivery": delivery.delivery_id}
    with tracing.span("recoverops.webhook", attributes=attributes) as current:
        ingested = _store_and_queue(store, queue, source=source, delivery=delivery)
        if current is not None:
            current.set_attribute("recoverops.event_id", ingested.event_id)
            current.set_attribute("recoverops.queued", ingested.queued)
        if deploys is not None:
            deploy = recognise(source.value, delivery.kind, delivery.body, at=datetime.now(UTC))
            if deploy is not None:
                stored, linked = record_deploy(store, deploys, deploy, event_id=ingested.event_id)
                if linked:
                    log.info("%s: linked to incidents %s", stored.describe(), linked)
        return ingested


def _store_and_queue(
    store: Store, queue: QueueHandle, *, source: Source, delivery: Delivery
) -> Ingested:
    event = Event(
        source=source,
        kind=delivery.kind,
        delivery_id=delivery.delivery_id,
        received_at=datetime.now(UTC),
        payload_ref=PAYLOAD_INLINE,
    )
    run = run_facts(source, delivery.kind, delivery.target, delivery.body)
    outbox = queue.outbox() if delivery.failure else None
    if outbox is not None:
        # Stored and queued in one transaction: a failure is never stored without being queued.
        added, queued = outbox.add_event_and_enqueue(
            event,
            payload=delivery.stored_payload(),
            message=partial(event_message, source=source, kind=delivery.kind),
            run=run,
        )
        if added.created:
            return Ingested(added.event_id, redelivery=False, queued=queued)
    else:
        added = store.add_event(event, payload=delivery.stored_payload(), run=run)
    if not delivery.failure:
        if added.created:
            store.mark_event_processed(added.event_id)
        if run is not None and run.outcome == "passed":
            # A job that failed on this commit and now passes was flaky (safe to repeat).
            reconsider(store, added.event_id)
        return Ingested(added.event_id, redelivery=not added.created, queued=False)
    if not added.created:
        stored = store.get_event(added.event_id)
        if stored is not None and stored.processed_at is not None:
            return Ingested(added.event_id, redelivery=True, queued=False)
    queued = queue.get().enqueue(*event_message(added.event_id, source, delivery.kind))
    return Ingested(added.event_id, redelivery=not added.created, queued=queued)
