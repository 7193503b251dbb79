"""The queue on the store's outbox table: no extra service, leases kept in the database."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

from recoverops.ci_runs import RunFacts
from recoverops.incidents import Event
from recoverops.queue.base import DEFAULT_LEASE, Message, QueueDepth
from recoverops.store import EventAdded, Store
from recoverops.store.store import Clock, utc_now


class OutboxQueue:
    """A `Queue` over the store's outbox; `clock` decides when leases expire (tests pass theirs)."""

    def __init__(
        self,
        store: Store,
        *,
        name: str = "events",
        lease: timedelta = DEFAULT_LEASE,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.name = name
        self.lease = lease
        self._clock = clock

    def enqueue(self, key: str, payload: Mapping[str, Any]) -> bool:
        return self.store.outbox_enqueue(self.name, key=key, payload=payload, now=self._clock())

    def add_event_and_enqueue(
        self,
        event: Event,
        *,
        payload: Any,
        message: Callable[[int], tuple[str, Mapping[str, Any]]],
        run: RunFacts | None = None,
    ) -> tuple[EventAdded, bool]:
        """Store `event` (and the CI `run` it reports) and queue `message(event_id)` in one
        transaction (see the store's)."""
        return self.store.add_event_and_enqueue(
            event, payload=payload, queue=self.name, message=message, now=self._clock(), run=run
        )

    def claim(self, consumer: str, *, limit: int = 10) -> list[Message]:
        now = self._clock()
        entries = self.store.outbox_claim(
            self.name, consumer=consumer, limit=limit, now=now, lease_until=now + self.lease
        )
        return [
            Message(str(entry.id), entry.dedup_key, entry.payload, attempts=entry.attempts)
            for entry in entries
        ]

    def ack(self, messages: Iterable[Message]) -> int:
        return self.store.outbox_ack(self.name, [int(message.receipt) for message in messages])

    def depth(self) -> QueueDepth:
        waiting, in_flight = self.store.outbox_depth(self.name, now=self._clock())
        return QueueDepth(waiting=waiting, in_flight=in_flight)
