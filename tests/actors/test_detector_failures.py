"""The detector loop when things go wrong, on each queue: a message that always fails goes to the
dead letters with its last error after RECOVEROPS_MAX_ATTEMPTS deliveries, and an outage of the
store or the queue costs two log lines, not one per poll. No Ray: the detector runs in-process."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import SecretStr
from sqlalchemy.exc import OperationalError

from recoverops.actors import detector as detector_module
from recoverops.actors.detector import Detector, DetectorConfig
from recoverops.queue import Message, Queue, QueueDepth, open_queue
from recoverops.queue.factory import STREAM_PREFIX
from recoverops.settings import Settings
from recoverops.store import Store
from tests.actors.conftest import GitHub, enqueue, failure_body, store_failure, wait_for

MAX_ATTEMPTS = 3
# Short leases: a failed message comes back quickly, so three attempts take a fraction of a second.
LEASE = timedelta(milliseconds=50)
BACKENDS = ("outbox-sqlite", "outbox-postgresql", "redis")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, github: GitHub) -> Iterator[Settings]:
    """Settings for each queue in turn (the outbox on SQLite and PostgreSQL, a Redis stream)
    with the fake GitHub serving the failed job's log."""
    name: str = request.param
    store_backend = "sqlite" if name == "redis" else name.removeprefix("outbox-")
    base: Settings = request.getfixturevalue(f"{store_backend}_settings")
    update: dict[str, Any] = {
        "home": tmp_path / "home",
        "github_api_url": github.url,
        "github_token": SecretStr("ghp_detector_test_token"),
        "max_attempts": MAX_ATTEMPTS,
    }
    if name == "redis":
        update["redis_url"] = request.getfixturevalue("redis_url")
    yield base.model_copy(update=update)


@pytest.fixture
def queue_name(redis_client: redis.Redis) -> Iterator[str]:
    """A queue no other test uses; its Redis keys, if any, are deleted after."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis_client
    leftovers = list(client.scan_iter(match=f"{STREAM_PREFIX}{name}*"))
    if leftovers:
        client.delete(*leftovers)


def test_a_poison_message_goes_to_the_dead_letters_with_its_last_error(
    backend: Settings, queue_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_analysis(text: str, **_: Any) -> Any:  # a bug, not an input RecoverOps refuses
        raise ZeroDivisionError(f"poisoned by a {len(text)}-character log")

    monkeypatch.setattr(detector_module, "analyze_text", broken_analysis)
    store = Store.open(backend)
    queue = open_queue(backend, store, name=queue_name, lease=LEASE)
    event_id = store_failure(store, failure_body())
    enqueue(queue, event_id)
    config = DetectorConfig(queue=queue_name, lease=LEASE, idle_wait=0.01)
    detector = Detector(backend, name="poisoned", config=config)
    try:
        [letter] = wait_for(store.dead_letters, what="the dead letter")
        stats = detector.stop()
    finally:
        detector.stop()

    assert (letter.dedup_key, letter.payload["event_id"]) == (f"event:{event_id}", event_id)
    assert letter.attempts == MAX_ATTEMPTS
    assert letter.last_error.startswith("ZeroDivisionError: poisoned by a ")
    assert (stats["failed"], stats["dead"]) == (MAX_ATTEMPTS, 1)
    event = store.get_event(event_id)
    assert event is not None and event.last_error == letter.last_error
    assert event.processed_at is None  # given up on, not done: a replay can still do it
    assert queue.depth().total == 0  # acked: nothing left to retry forever
    assert store.dead_letter_counts() == (1, 1)
    store.close()


def test_a_message_its_consumers_died_holding_is_given_up_on(
    backend: Settings, queue_name: str
) -> None:
    store = Store.open(backend)
    queue = open_queue(backend, store, name=queue_name, lease=LEASE)
    event_id = store_failure(store, failure_body())
    enqueue(queue, event_id)
    # Consumers that claim and never ack, as a crashing one would: each claim is a delivery.
    for attempt in range(1, MAX_ATTEMPTS + 1):
        [message] = wait_for(lambda: queue.claim("crashing"), what=f"delivery {attempt}")
        assert message.attempts == attempt
    store.record_event_error(event_id, "MemoryError: the log was too much")
    config = DetectorConfig(queue=queue_name, lease=LEASE, idle_wait=0.01)
    detector = Detector(backend, name="survivor", config=config)
    try:
        [letter] = wait_for(store.dead_letters, what="the dead letter")
    finally:
        detector.stop()

    assert letter.attempts == MAX_ATTEMPTS + 1
    assert letter.last_error == "MemoryError: the log was too much"
    event = store.get_event(event_id)
    assert event is not None and event.processed_at is None
    store.close()


class Unplugged:
    """A real queue that can be cut off: while `down`, every call fails as a dead server does."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self.down = threading.Event()
        self.failed_claims = 0
        self.reached = threading.Event()  # set once enough claims failed
        self.claimed_again = threading.Event()
        self.enough = 8

    def claim(self, consumer: str, *, limit: int = 10) -> list[Message]:
        if self.down.is_set():
            self.failed_claims += 1
            if self.failed_claims >= self.enough:
                self.reached.set()
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        messages = self.queue.claim(consumer, limit=limit)
        self.claimed_again.set()
        return messages

    def enqueue(self, key: str, payload: Any) -> bool:
        return self.queue.enqueue(key, payload)

    def ack(self, messages: Any) -> int:
        return self.queue.ack(messages)

    def depth(self) -> QueueDepth:
        return self.queue.depth()


def test_an_outage_is_one_line_when_it_starts_and_one_when_it_ends(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_open = detector_module.open_queue
    unplugged: list[Unplugged] = []

    def open_unplugged(*args: Any, **kwargs: Any) -> Unplugged:
        made = Unplugged(real_open(*args, **kwargs))
        made.down.set()
        unplugged.append(made)
        return made

    monkeypatch.setattr(detector_module, "open_queue", open_unplugged)
    Store.open(sqlite_settings).close()  # migrated, as `recoverops up` leaves it
    caplog.set_level(logging.INFO, logger="recoverops.actors")
    config = DetectorConfig(idle_wait=0.001, max_backoff=0.02)
    detector = Detector(sqlite_settings, name="outage", config=config)
    try:
        [queue] = unplugged
        assert queue.reached.wait(30), "the detector stopped trying"
        queue.down.clear()
        assert queue.claimed_again.wait(30), "the detector did not come back"
        wait_for(lambda: not detector._outage.down, what="the outage to end")
    finally:
        detector.stop()

    lines = [record.getMessage() for record in caplog.records]
    assert queue.failed_claims >= queue.enough
    assert [line for line in lines if "unavailable" in line] == [
        f"{detector.consumer}: the store or the queue unavailable (OperationalError: "
        "(builtins.Exception) connection refused); retrying with backoff up to 0.02s"
    ]
    assert len([line for line in lines if "available again" in line]) == 1
    assert not any(record.exc_info for record in caplog.records)  # no traceback per poll
