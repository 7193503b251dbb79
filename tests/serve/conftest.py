"""HTTP tests run the app over real servers: each store and queue pairing the system uses."""

import uuid
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from recoverops.queue import OutboxQueue, Queue, RedisStreamQueue
from recoverops.settings import Settings
from recoverops.store import Store
from tests.serve.harness import Backend, with_secrets

# The embedded default, PostgreSQL with its outbox, and the production pairing.
BACKENDS = ("sqlite+outbox", "postgresql+outbox", "postgresql+redis")


def _open(request: pytest.FixtureRequest, name: str) -> Iterator[Backend]:
    store_name, queue_name = name.split("+")
    settings: Settings = request.getfixturevalue(f"{store_name}_settings")
    store = Store.open(settings)
    queue: Queue
    if queue_name == "redis":
        client: redis.Redis = request.getfixturevalue("redis_client")
        queue = RedisStreamQueue(client, stream=request.getfixturevalue("stream_key"))
    else:
        queue = OutboxQueue(store, name=f"events-{uuid.uuid4().hex[:8]}")
    yield Backend(name=name, settings=with_secrets(settings), store=store, queue=queue)
    store.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each store and queue pairing in turn."""
    yield from _open(request, request.param)


@pytest.fixture
def sqlite_backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The embedded default only: for checks that refuse a request before it reaches storage."""
    yield from _open(request, BACKENDS[0])


@pytest.fixture
def client(backend: Backend) -> Iterator[TestClient]:
    with backend.client() as client:
        yield client


@pytest.fixture
def sqlite_client(sqlite_backend: Backend) -> Iterator[TestClient]:
    with sqlite_backend.client() as client:
        yield client
