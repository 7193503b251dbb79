"""Pick the queue the settings ask for: Redis Streams when a Redis URL is set, else the outbox."""

from __future__ import annotations

from datetime import timedelta

from recoverops.queue.base import DEFAULT_LEASE, Queue
from recoverops.queue.outbox import OutboxQueue
from recoverops.queue.redis_streams import RedisStreamQueue
from recoverops.settings import Settings
from recoverops.store import Store

STREAM_PREFIX = "recoverops:"


def open_queue(
    settings: Settings, store: Store, *, name: str = "events", lease: timedelta = DEFAULT_LEASE
) -> Queue:
    """The queue called `name`: a Redis stream `recoverops:<name>`, or `store`'s outbox."""
    if settings.redis_url:
        return RedisStreamQueue.from_url(
            settings.redis_url, stream=f"{STREAM_PREFIX}{name}", lease=lease
        )
    return OutboxQueue(store, name=name, lease=lease)
