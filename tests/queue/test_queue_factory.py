"""The settings pick the queue: Redis Streams when a Redis URL is set, else the store's outbox."""

from __future__ import annotations

import socket
import time

import pytest
import redis

from recoverops.queue import OutboxQueue, RedisStreamQueue, open_queue
from recoverops.queue.factory import STREAM_PREFIX
from recoverops.queue.redis_streams import SOCKET_TIMEOUT
from recoverops.settings import Settings
from recoverops.store import Store


def test_without_redis_the_outbox_is_the_queue(store: Store, store_settings: Settings) -> None:
    queue = open_queue(store_settings, store, name="events")
    assert isinstance(queue, OutboxQueue)
    assert queue.enqueue("k", {"n": 1})
    assert [m.key for m in queue.claim("worker")] == ["k"]


def test_with_redis_a_stream_is_the_queue(
    sqlite_settings: Settings, redis_client: redis.Redis, stream_key: str, redis_url: str
) -> None:
    settings = sqlite_settings.model_copy(update={"redis_url": redis_url})
    stream = f"{STREAM_PREFIX}{stream_key}"
    store = Store.open(settings)
    queue = open_queue(settings, store, name=stream_key)
    try:
        assert isinstance(queue, RedisStreamQueue)
        assert queue.stream == stream
        assert queue.enqueue("k", {"n": 1})
        assert [m.key for m in queue.claim("worker")] == ["k"]
        queue.client.close()
    finally:
        redis_client.delete(stream, f"{stream}:keys")
        store.close()


def test_a_hung_redis_fails_fast_instead_of_blocking(sqlite_settings: Settings) -> None:
    # A server that accepts the connection and never answers: Redis hung, not down.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        settings = sqlite_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
        store = Store.open(settings)
        started = time.monotonic()
        try:
            with pytest.raises(redis.TimeoutError):
                open_queue(settings, store, name="hung")
        finally:
            store.close()
        waited = time.monotonic() - started

    assert SOCKET_TIMEOUT <= waited < SOCKET_TIMEOUT + 2.0
