"""On SQLite, GET /incidents, /metrics and /healthz answer while a writer holds the write lock:
only transactions that write begin IMMEDIATE; the reads read the last committed snapshot."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from recoverops.incidents import Event, Source
from recoverops.settings import Settings
from recoverops.store import Store
from recoverops.store.url import database_url
from recoverops.taxonomy import Category
from tests.serve.harness import Backend

# A read that queued behind the writer would wait for the busy timeout (30 s) or the writer.
DEADLINE_SECONDS = 10.0
WRITER_GIVES_UP_SECONDS = 90.0


class Writer:
    """A store transaction that has written and holds SQLite's write lock until released."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.holding = threading.Event()
        self.release = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self._store.transaction() as session:
            session.execute(text("UPDATE incidents SET status = 'resolved'"))
            self.holding.set()
            self.release.wait(WRITER_GIVES_UP_SECONDS)
            session.rollback()

    def __enter__(self) -> Writer:
        self._thread.start()
        assert self.holding.wait(DEADLINE_SECONDS), "the writer never began"
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self._thread.join(DEADLINE_SECONDS)


@pytest.fixture
def stored_incident(sqlite_backend: Backend) -> int:
    store = sqlite_backend.store
    seen = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    event_id = store.add_event(Event(Source.GITHUB, "workflow_job.completed", "d-1", seen, "x"))
    upsert = store.upsert_incident(
        "fp-1",
        target="octo/repo:ci/test",
        category=Category.BUILD_TEST,
        source=Source.GITHUB,
        seen_at=seen,
        event_id=event_id.event_id,
    )
    return upsert.incident.id


@pytest.fixture
def writer(sqlite_backend: Backend, stored_incident: int) -> Iterator[Writer]:
    with Writer(sqlite_backend.store) as holding:
        yield holding


def write_lock_is_held(backend: Backend) -> bool:
    """Whether another connection is refused the write lock right now."""
    path = database_url(backend.settings).removeprefix("sqlite:///")
    with sqlite3.connect(path, timeout=0.1, isolation_level=None) as other:
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return True
        other.execute("ROLLBACK")
        return False


@pytest.mark.parametrize("path", ["/incidents", "/metrics", "/healthz"])
def test_a_read_does_not_queue_behind_a_writer(
    sqlite_backend: Backend, stored_incident: int, writer: Writer, path: str
) -> None:
    assert write_lock_is_held(sqlite_backend)
    with sqlite_backend.client() as client:
        started = time.monotonic()
        response = client.get(path)
        elapsed = time.monotonic() - started
    assert write_lock_is_held(sqlite_backend)  # the writer held it all along
    assert response.status_code == 200, response.text
    assert elapsed < DEADLINE_SECONDS, f"GET {path} took {elapsed:.1f} s behind the writer"
    if path == "/incidents":
        (incident,) = response.json()["items"]
        # The last committed snapshot, not the writer's uncommitted change.
        assert incident["id"] == stored_incident and incident["status"] == "open"
    if path == "/metrics":
        assert 'recoverops_incidents{category="build.test",status="open"} 1.0' in response.text


def test_a_write_still_waits_for_the_writer(sqlite_backend: Backend, writer: Writer) -> None:
    """Writes keep their IMMEDIATE begin: a second writer waits, and goes on once released."""
    done = threading.Event()

    def second_writer() -> None:
        sqlite_backend.store.audit("test", "wrote", subject="s", detail={})
        done.set()

    thread = threading.Thread(target=second_writer, daemon=True)
    thread.start()
    assert not done.wait(1.0)  # still queued behind the first writer after a second
    writer.release.set()
    assert done.wait(DEADLINE_SECONDS)
    thread.join(DEADLINE_SECONDS)


def test_read_only_transactions_refuse_writes_on_postgresql(
    postgresql_settings: Settings,
) -> None:
    store = Store.open(postgresql_settings)
    try:
        with pytest.raises(Exception, match="read-only transaction"):
            with store.reading() as session:
                session.execute(text("UPDATE incidents SET status = 'resolved'"))
        assert store.list_incidents(limit=1).items == ()  # reads work
    finally:
        store.close()
