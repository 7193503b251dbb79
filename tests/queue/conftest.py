"""Queue fixtures: every backend in turn, over the same real servers as the store tests."""

import uuid
from collections.abc import Iterator

import pytest
import redis

from recoverops.queue import OutboxQueue, RedisStreamQueue
from recoverops.settings import Settings
from recoverops.store import Store
from tests.queue.queue_harness import OUTBOX_LEASE, REDIS_LEASE, ManualClock, QueueUnderTest

QUEUE_BACKENDS = ("redis", "outbox-sqlite", "outbox-postgresql")


@pytest.fixture(params=QUEUE_BACKENDS)
def queue_under_test(request: pytest.FixtureRequest) -> Iterator[QueueUnderTest]:
    """Each queue in turn: a Redis stream, and the outbox on SQLite and on PostgreSQL."""
    backend: str = request.param
    store_backend = "sqlite" if backend == "redis" else backend.removeprefix("outbox-")
    settings: Settings = request.getfixturevalue(f"{store_backend}_settings")
    store = Store.open(settings)
    if backend == "redis":
        client: redis.Redis = request.getfixturevalue("redis_client")
        stream: str = request.getfixturevalue("stream_key")
        queue = RedisStreamQueue(client, stream=stream, lease=REDIS_LEASE)
        yield QueueUnderTest(queue=queue, store=store, clock=None, lease=REDIS_LEASE)
    else:
        clock = ManualClock()
        name = f"q-{uuid.uuid4().hex[:8]}"
        outbox = OutboxQueue(store, name=name, lease=OUTBOX_LEASE, clock=clock)
        yield QueueUnderTest(queue=outbox, store=store, clock=clock, lease=OUTBOX_LEASE)
    store.close()
