"""Each queue backend under test, with a way to let its leases run out that needs no sleeping.

The outbox takes its time from a clock we move by hand. Redis keeps time itself, so its lease is
tiny and the tests poll until the server hands the message over, up to a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from recoverops.queue import Message, Queue
from recoverops.store import Store

T = TypeVar("T")

REDIS_LEASE = timedelta(milliseconds=500)
OUTBOX_LEASE = timedelta(seconds=30)
POLL_DEADLINE_SECONDS = 10.0


class ManualClock:
    def __init__(self, start: datetime = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def poll(
    produce: Callable[[], list[T]], *, deadline_seconds: float = POLL_DEADLINE_SECONDS
) -> list[T]:
    """Call `produce` until it returns something or the deadline passes; its last answer."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        produced = produce()
        if produced or time.monotonic() > deadline:
            return produced


@dataclass
class QueueUnderTest:
    queue: Queue
    store: Store  # where consumers record what they processed
    clock: ManualClock | None  # None: the backend keeps time itself (Redis)
    lease: timedelta

    def claim_after_leases_expire(self, consumer: str, *, limit: int = 10) -> list[Message]:
        if self.clock is not None:
            self.clock.advance(self.lease + timedelta(seconds=1))
        return poll(lambda: self.queue.claim(consumer, limit=limit))
