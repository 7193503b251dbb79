"""The queue between ingestion and the detectors: one small interface, two implementations.

Delivery is at-least-once. `claim` leases messages to a consumer; a message that is not acked
before its lease runs out (the consumer died or hung) is handed to the next consumer that claims.
Consumers therefore process idempotently: the store keys every write by delivery id and
fingerprint, so a message processed twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from recoverops.incidents import Source
from recoverops.observability import tracing

# How long a claimed message stays with its consumer before another may take it over. Long
# enough for the slowest analysis; a crashed consumer's work waits this long to be redone.
DEFAULT_LEASE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Message:
    """A claimed message. `receipt` is the backend's handle for `ack`; `key` is the dedup key;
    `attempts` counts its deliveries, this one included (a consumer that died holding it counts:
    the message may be what killed it)."""

    receipt: str
    key: str
    payload: dict[str, Any]
    attempts: int = 1


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """Messages not yet claimed, and messages claimed but not acked (for the metrics gauges)."""

    waiting: int
    in_flight: int

    @property
    def total(self) -> int:
        return self.waiting + self.in_flight


class Queue(Protocol):
    def enqueue(self, key: str, payload: Mapping[str, Any]) -> bool:
        """Add a message; False when a message with this key is still queued (not yet acked)."""
        ...

    def claim(self, consumer: str, *, limit: int = 10) -> list[Message]:
        """Lease up to `limit` messages to `consumer`: first ones whose lease expired, then new."""
        ...

    def ack(self, messages: Iterable[Message]) -> int:
        """Remove processed messages for good; returns how many were still queued."""
        ...

    def depth(self) -> QueueDepth: ...


def queue_key(event_id: int) -> str:
    return f"event:{event_id}"


def event_message(event_id: int, source: Source, kind: str) -> tuple[str, dict[str, Any]]:
    """The queue key and body of a stored failure event. Ingestion, the source actors' sweep and
    the watch sources all queue through it: a key built two ways would queue one event twice.
    When tracing is on, the body carries the current span's context (`trace`), so the detector's
    span continues the webhook's trace in another process."""
    body: dict[str, Any] = {"event_id": event_id, "source": source.value, "kind": kind}
    trace = tracing.carrier()
    if trace:
        body["trace"] = trace
    return queue_key(event_id), body
