"""Real Ray (one local instance per session), a SQLite store per test, and a fake GitHub."""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import ray
from pydantic import SecretStr

from recoverops.ci_runs import run_facts
from recoverops.incidents import Event, Source
from recoverops.queue import Queue
from recoverops.settings import Settings
from recoverops.store import Store
from tests.connectors.fake_server import FakeServer, Reply, running

FIXTURES = Path(__file__).parent.parent / "fixtures"
FAILURE_PAYLOAD = (
    FIXTURES / "webhooks/github/workflow_job/completed.failure.with-organization.payload.json"
)
CASE = "github-uv-python-downloads-dns-error"  # deploy.network
LOG = (FIXTURES / "cases" / CASE / "log.txt").read_bytes()
BLOB = "/blob/job-logs.txt"

T = TypeVar("T")


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """One local Ray for the whole session: starting it takes seconds."""
    previous = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    if previous is None:
        os.environ.pop("RAY_AUTH_MODE", None)
    else:
        os.environ["RAY_AUTH_MODE"] = previous


def failure_body(*, job_id: int | None = None, name: str | None = None) -> dict[str, Any]:
    """The fixture's failed workflow_job, optionally as another job (another id and name)."""
    body: dict[str, Any] = json.loads(FAILURE_PAYLOAD.read_text())
    if job_id is not None:
        body["workflow_job"]["id"] = job_id
    if name is not None:
        body["workflow_job"]["name"] = name
    return body


def logs_path(body: dict[str, Any]) -> str:
    repo = body["repository"]["full_name"]
    return f"/repos/{repo}/actions/jobs/{body['workflow_job']['id']}/logs"


class GitHub:
    """GitHub's job-logs endpoint, redirecting to a second server that holds a real failing log."""

    def __init__(self, api: FakeServer, storage: FakeServer) -> None:
        self.api = api
        self.storage = storage
        self._jobs = itertools.count(1)
        storage.route(BLOB, Reply(200, LOG, {"Content-Type": "text/plain"}))
        self.serve(failure_body())

    @property
    def url(self) -> str:
        return self.api.url

    def serve(self, body: dict[str, Any]) -> dict[str, Any]:
        self.api.route(logs_path(body), Reply(302, headers={"Location": self.storage.url + BLOB}))
        return body

    def new_job(self) -> dict[str, Any]:
        """A failed job of its own (so its own incident), whose log the server serves."""
        n = next(self._jobs)
        return self.serve(failure_body(job_id=900_000 + n, name=f"job-{n}"))


@contextmanager
def github_server() -> Iterator[GitHub]:
    with running() as api, running() as storage:
        yield GitHub(api, storage)


def settings_for(home: Path, github: GitHub) -> Settings:
    return Settings(
        home=home,
        database_url=None,
        redis_url=None,
        github_api_url=github.url,
        github_token=SecretStr("ghp_actors_test_token"),
    )


@pytest.fixture
def github() -> Iterator[GitHub]:
    with github_server() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, github: GitHub) -> Settings:
    return settings_for(tmp_path / "home", github)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = Store.open(settings)
    yield opened
    opened.close()


def store_failure(
    store: Store,
    body: dict[str, Any],
    *,
    delivery_id: str | None = None,
    received_at: datetime | None = None,
    record_run: bool = False,
) -> int:
    """Store a GitHub workflow_job failure as ingestion does; its event id. With `record_run`,
    its CI run too (as ingestion does for every finished job: a passing one when the body's
    conclusion is success)."""
    job = body["workflow_job"]
    target = f"{body['repository']['full_name']}:{job['workflow_name']}/{job['name']}"
    event = Event(
        source=Source.GITHUB,
        kind=f"workflow_job.{body['action']}",
        delivery_id=delivery_id or str(uuid.uuid4()),
        received_at=received_at or datetime.now(UTC),
        payload_ref="inline",
    )
    passed = job.get("conclusion") == "success"
    payload = {"failure": not passed, "target": target, "body": body}
    run = run_facts(Source.GITHUB, event.kind, target, body) if record_run else None
    event_id = store.add_event(event, payload=payload, run=run).event_id
    if passed:
        store.mark_event_processed(event_id)  # nothing to do: ingestion queues only failures
    return event_id


def enqueue(queue: Queue, event_id: int) -> None:
    payload = {"event_id": event_id, "source": "github", "kind": "workflow_job.completed"}
    assert queue.enqueue(f"event:{event_id}", payload)


def wait_for(check: Callable[[], T | None], *, what: str, timeout: float = 30.0) -> T:
    """Poll `check` until it answers something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)  # the poll interval, not a synchronisation
