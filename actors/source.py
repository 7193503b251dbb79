"""A source actor: one per log source, making sure every stored failure of its source is queued.

For the CI webhook sources, ingestion stores an event and then queues it; a process that dies
between the two, or a queue that refuses the enqueue (Redis down after the store answered),
leaves a failure stored but never queued. The redelivery of the webhook would queue it, but CI
systems do not always redeliver. The source actor's sweep finds such events and queues them:

    every `interval`:  events of the source, not processed, oldest first, from the floor
        received more than `grace` ago:  a failure → enqueue (refused if it is still queued)
                                         anything else → marked processed (ingestion died
                                         before it could; nothing is to be done with it)
        younger:                         left to ingestion, which may still be queueing it

Idempotent: the queue refuses a key it holds (a queued or in-flight event), and an event that
is processed twice is recognised by the store. The floor is the id below which every event of
the source is processed, kept in memory; a restarted actor starts from 0 once. Each sweep
examines at most `limit` events, oldest first: behind a backlog of queued events, a lost one is
reached once the backlog ahead of it is processed.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from recoverops.incidents import Source
from recoverops.observability.setup import set_up_actor
from recoverops.queue import Queue, event_message, open_queue
from recoverops.settings import Settings
from recoverops.store import Store, StoredEvent

logger = logging.getLogger("recoverops.actors")


@dataclass(frozen=True, slots=True)
class SourceConfig:
    queue: str = "events"
    interval: float = 30.0  # seconds between sweeps
    # Long enough for ingestion to queue what it just stored (its request takes milliseconds).
    grace: timedelta = timedelta(seconds=30)
    limit: int = 200  # events examined per sweep


@dataclass(frozen=True, slots=True)
class Sweep:
    """What one sweep did; `floor` is the next sweep's starting point."""

    enqueued: int = 0  # failures that were on no queue, now queued
    queued: int = 0  # failures already queued or in flight (the queue refused them)
    settled: int = 0  # non-failures ingestion had not marked processed
    young: int = 0  # left to ingestion
    floor: int = 0


def sweep(
    store: Store,
    queue: Queue,
    *,
    source: Source,
    floor: int = 0,
    grace: timedelta,
    limit: int,
    now: datetime | None = None,
) -> Sweep:
    """Queue the stored failures of `source` that are on no queue (see the module docstring)."""
    cutoff = (now or datetime.now(UTC)) - grace
    # Read first: every event at or below it was stored before the cutoff, so it is visible now.
    ceiling = store.newest_event_id(source=source, received_before=cutoff)
    counts = {"enqueued": 0, "queued": 0, "settled": 0, "young": 0}
    lowest_open: int | None = None
    examined = store.unprocessed_events(source=source, after_id=floor, limit=limit)
    for event in examined:
        if event.received_at >= cutoff:
            counts["young"] += 1
        elif _is_failure(event):
            key, payload = event_message(event.id, event.source, event.kind)
            counts["enqueued" if queue.enqueue(key, payload) else "queued"] += 1
        else:
            store.mark_event_processed(event.id)
            counts["settled"] += 1
            continue
        lowest_open = event.id if lowest_open is None else min(lowest_open, event.id)
    if lowest_open is not None:
        next_floor = lowest_open - 1
    elif len(examined) == limit:  # more beyond this page: go on from its end
        next_floor = examined[-1].id
    else:
        next_floor = max(floor, ceiling or 0)
    return Sweep(**counts, floor=next_floor)


def _is_failure(event: StoredEvent) -> bool:
    payload = event.payload
    return isinstance(payload, dict) and payload.get("failure") is True


class SourceActor:
    """Wrapped with `ray.remote` by the supervisor; plain Python here. Sweeps on a thread."""

    def __init__(self, settings: Settings, *, source: str, config: SourceConfig) -> None:
        set_up_actor(settings)  # this actor's process logs and traces as `up` does
        self.source = Source(source)
        self.name = f"source:{source}"
        self._config = config
        self._store = Store.open(settings, migrate=False)
        self._settings = settings
        # Opened by the first sweep, so that the actor starts (and retries) while Redis is down.
        self._queue: Queue | None = None
        self._floor = 0
        self._totals = {"sweeps": 0, "enqueued": 0, "settled": 0, "failed": 0}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def ping(self) -> str:
        return self.name

    def sweep_now(self) -> dict[str, int]:
        """Sweep once, now (also what the loop does every `interval`)."""
        with self._lock:
            if self._queue is None:
                self._queue = open_queue(self._settings, self._store, name=self._config.queue)
            done = sweep(
                self._store,
                self._queue,
                source=self.source,
                floor=self._floor,
                grace=self._config.grace,
                limit=self._config.limit,
            )
            self._floor = done.floor
            self._totals["sweeps"] += 1
            self._totals["enqueued"] += done.enqueued
            self._totals["settled"] += done.settled
        if done.enqueued:
            logger.warning(
                "%s: queued %d stored failures that were on no queue", self.name, done.enqueued
            )
        return asdict(done)

    def stats(self) -> dict[str, Any]:
        return {
            "source": self.name,
            "running": self._thread.is_alive(),
            "floor": self._floor,
            **self._totals,
        }

    def stop(self, timeout: float = 10.0) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(timeout)
        self._store.close()
        return self.stats()

    def _run(self) -> None:
        while not self._stop.wait(self._config.interval):
            try:
                self.sweep_now()
            except Exception:  # the store or queue is down: the next sweep tries again
                self._totals["failed"] += 1
                logger.exception("%s: sweep failed", self.name)
