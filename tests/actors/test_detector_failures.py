"""The detector loop when things go wrong, on each queue: a message that always fails goes to the
dead letters with its last error after RECOVEROPS_MAX_ATTEMPTS deliveries, and an outage of the
store costs two log lines, not one per poll. No Ray: the detector runs in-process."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from recoverops.actors import detector as detector_module
from recoverops.actors.detector import Detector, DetectorConfig
from recoverops.queue import open_queue
from recoverops.queue.factory import STREAM_PREFIX
from recoverops.settings import Settings
from recoverops.store import Store
from tests.actors.conftest import GitHub, enqueue, failure_body, store_failure, wait_for
from tests.tcp_proxy import proxied

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


def test_a_store_outage_is_one_line_when_it_starts_and_one_when_it_ends(
    postgresql_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    Store.open(postgresql_settings).close()  # migrated, as `recoverops up` leaves it
    server = make_url(str(postgresql_settings.database_url))
    # A server on a Unix socket (the embedded one) names its folder in the `host` query.
    folder = server.query.get("host")
    target = (
        f"{folder}/.s.PGSQL.{server.port or 5432}"
        if isinstance(folder, str)
        else (server.host or "127.0.0.1", server.port or 5432)
    )
    with proxied(target) as proxy:
        # The detector reaches PostgreSQL (its store and its outbox queue) through the proxy.
        url = (
            server.difference_update_query(["host"])
            .set(host="127.0.0.1", port=proxy.port)
            .render_as_string(hide_password=False)
        )
        settings = postgresql_settings.model_copy(update={"database_url": url})
        caplog.set_level(logging.INFO, logger="recoverops.actors")
        config = DetectorConfig(idle_wait=0.001, max_backoff=0.05)
        detector = Detector(settings, name="outage", config=config)
        try:
            proxy.cut()
            down = wait_for(
                lambda: (stats := detector.stats())["failed_tries"] >= 8 and stats,
                what="eight failed tries",
            )
            proxy.restore()
            wait_for(lambda: not detector.stats()["unavailable"], what="the store to be back")
            stored = Store.open(settings, migrate=False)
            event_id = store_failure(stored, failure_body())
            enqueue(open_queue(settings, stored, name=config.queue), event_id)
            wait_for(lambda: detector.stats()["claimed"] == 1, what="the queued event's claim")
            stored.close()
        finally:
            detector.stop()

    assert down["unavailable"] and down["running"]
    lines = [r.getMessage() for r in caplog.records if r.name == "recoverops.actors"]
    went = [line for line in lines if "unavailable (" in line]
    came = [line for line in lines if "available again" in line]
    assert len(went) == 1 and "OperationalError" in went[0], lines
    assert len(came) == 1, lines
    assert not any(record.exc_info for record in caplog.records)  # no traceback per poll
