"""Where a watching source puts what it saw: stored as an event, then queued for the detectors,
exactly as a CI webhook delivery is (serve's `ingest`): the same queue key and message, and on
the outbox queue the event and its message in one transaction.

A watched failure has no log to fetch later: its text (the describe-like lines and the
container's last log lines) travels inline in the stored payload, `{"failure": true,
"target", "cause", "text", "subject"}`, which the detector analyzes (`actors.jobs`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from recoverops.incidents import Event, Source
from recoverops.queue import Queue, event_message
from recoverops.queue.outbox import OutboxQueue
from recoverops.store import Store

PAYLOAD_INLINE = "inline"
MAX_DELIVERY_ID = 255  # the store's column


@dataclass(frozen=True, slots=True)
class WatchedFailure:
    """One failure of one target, seen by a watching source.

    `delivery_id` makes storing it idempotent (a restart that sees it again stores nothing);
    `group` is what its incident is grouped by (target and cause), whatever its text says."""

    source: Source
    kind: str
    delivery_id: str
    target: str
    cause: str
    subject: str
    text: str
    seen_at: datetime
    # The workload that failed, as `recoverops.correlation.Identity.to_json` writes it: what a
    # deploy of it is matched by. None: the source cannot tell (a node).
    identity: Mapping[str, Any] | None = None
    # Set by the anomaly model (`recoverops.anomaly`): why this is an anomaly, with its numbers.
    anomaly: Mapping[str, Any] | None = None

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "failure": True,
            "target": self.target,
            "cause": self.cause,
            "subject": self.subject,
            "text": self.text,
        }
        if self.identity is not None:
            payload["identity"] = dict(self.identity)
        if self.anomaly is not None:
            payload["anomaly"] = dict(self.anomaly)
        return payload


class Sink(Protocol):
    def put(self, failure: WatchedFailure) -> bool:
        """Store and queue `failure`; False when it was stored before (nothing queued)."""
        ...


def bounded_delivery_id(value: str) -> str:
    if len(value) <= MAX_DELIVERY_ID:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


class StoredSink:
    """Stores each failure as an event and queues it on `queue`."""

    def __init__(self, store: Store, queue: Queue) -> None:
        self._store = store
        self._queue = queue

    def put(self, failure: WatchedFailure) -> bool:
        event = Event(
            source=failure.source,
            kind=failure.kind,
            delivery_id=bounded_delivery_id(failure.delivery_id),
            received_at=failure.seen_at,
            payload_ref=PAYLOAD_INLINE,
        )
        message = partial(event_message, source=failure.source, kind=failure.kind)
        if isinstance(self._queue, OutboxQueue):
            added, queued = self._queue.add_event_and_enqueue(
                event, payload=failure.payload(), message=message
            )
            if added.created:
                return queued
        else:
            added = self._store.add_event(event, payload=failure.payload())
        if not added.created:
            stored = self._store.get_event(added.event_id)
            if stored is None or stored.processed_at is not None:
                return False
        # New, or stored by a run that died before queueing it: the queue refuses a held key.
        return self._queue.enqueue(*message(added.event_id))
