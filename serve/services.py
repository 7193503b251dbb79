"""What the routes work with: the settings, the store, the queue, the metrics, the catalogue."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from recoverops.analysis import Analysis
from recoverops.classify.catalogue import Catalogue
from recoverops.queue import OutboxQueue, Queue, open_queue
from recoverops.settings import Settings
from recoverops.store import Store

from .metrics import Metrics
from .webhooks.sns import SnsVerifier


class QueueHandle:
    """The queue, opened on first use and again after a failed open.

    Opening a Redis queue talks to Redis; the app must start (and say so on /healthz) while
    Redis is down, and start working when it comes back.
    """

    def __init__(self, settings: Settings, store: Store, queue: Queue | None = None) -> None:
        self._settings = settings
        self._store = store
        self._queue = queue
        self._lock = threading.Lock()

    def get(self) -> Queue:
        queue = self._queue
        if queue is None:
            with self._lock:
                if self._queue is None:
                    self._queue = open_queue(self._settings, self._store)
                queue = self._queue
        return queue

    def outbox(self) -> OutboxQueue | None:
        """The queue when it is the store's outbox, whose enqueue can share the event's
        transaction; None for Redis (not opened here: storing must not wait on Redis)."""
        if self._queue is None and self._settings.redis_url:
            return None
        queue = self.get()
        return queue if isinstance(queue, OutboxQueue) else None


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: Store
    queue: QueueHandle
    catalogue: Catalogue
    max_body_bytes: int
    metrics: Metrics = field(default_factory=Metrics)
    # Combines a served model's verdict into an analysis, falling back to the rules by itself
    # (`serve.classifier_client`); None: the rules alone.
    refine: Callable[[Analysis], Analysis] | None = None
    # POST /analyze's places (RECOVEROPS_ANALYZE_CONCURRENCY): one is taken for each analysis.
    analyze_slots: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(2))
    # Checks SNS signatures for POST /webhooks/aws, caching the certificates it fetched.
    sns: SnsVerifier = field(default_factory=SnsVerifier)
