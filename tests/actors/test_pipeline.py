"""The pipeline on real Ray: a supervisor, two detectors, a remediator, a real store and queue.

Starting actors costs seconds (one process each), so one system serves the whole module on the
outbox queue (each test uses its own job, so its own incident); test_pipeline_redis.py starts
its own on Redis Streams.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import ray
import redis

from recoverops.actors import DetectorConfig, Handle, PoolConfig, SourceConfig, start_supervisor
from recoverops.actors.remediator import VERB, subject_of
from recoverops.incidents import IncidentStatus
from recoverops.queue import Queue, open_queue
from recoverops.queue.factory import STREAM_PREFIX
from recoverops.store import Store, StoredIncident
from recoverops.store.stages import ANALYZED_VERB
from recoverops.taxonomy import Category
from tests.actors.conftest import (
    LOG,
    GitHub,
    enqueue,
    github_server,
    logs_path,
    settings_for,
    store_failure,
    wait_for,
)
from tests.actors.gate import checkpoint_at, open_gate
from tests.connectors.fake_server import Reply

pytestmark = pytest.mark.usefixtures("ray_session")

# Short, so that a dead detector's message is reclaimed within the test's patience.
LEASE = timedelta(seconds=2)


@dataclass
class System:
    """A running pipeline and what a test needs to drive it."""

    supervisor: Handle
    gate: Handle
    github: GitHub
    store: Store
    queue: Queue

    def detectors(self) -> dict[str, Handle]:
        """The live detectors by consumer name."""
        handles: list[Handle] = ray.get(self.supervisor.detectors.remote())
        return {ray.get(d.ping.remote()): d for d in handles}

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = ray.get(self.supervisor.status.remote())
        return status

    def stop(self) -> None:
        final: dict[str, Any] = ray.get(self.supervisor.stop.remote(), timeout=60)
        assert [d["running"] for d in final["detectors"]] == [False, False], final
        ray.kill(self.supervisor, no_restart=True)
        ray.kill(self.gate)


@contextmanager
def running(home: Path, *, redis_url: str | None = None) -> Iterator[System]:
    queue_name = f"actors-{uuid.uuid4().hex[:8]}"
    with github_server() as github:
        settings = settings_for(home, github).model_copy(update={"redis_url": redis_url})
        gate = open_gate()
        config = PoolConfig(
            detectors=2,
            detector=DetectorConfig(queue=queue_name, lease=LEASE, batch=5, idle_wait=0.05),
            systems=("github",),  # one source actor and one remediator are enough here
            # Sweeps often, but leaves what the tests queue themselves to them (grace).
            source=SourceConfig(interval=0.2, grace=timedelta(seconds=30)),
            check_interval=0.2,
        )
        supervisor, _ = start_supervisor(settings, config=config, checkpoint=checkpoint_at(gate))
        store = Store.open(settings, migrate=False)
        queue = open_queue(settings, store, name=queue_name, lease=LEASE)
        system = System(supervisor, gate, github, store, queue)
        try:
            yield system
        finally:
            system.stop()
            store.close()
            if redis_url:
                client = redis.Redis.from_url(redis_url)
                client.delete(f"{STREAM_PREFIX}{queue_name}", f"{STREAM_PREFIX}{queue_name}:keys")
                client.close()


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running(tmp_path_factory.mktemp("actors") / "home") as started:
        yield started


def analyzed(store: Store, event_id: int) -> StoredIncident | None:
    event = store.get_event(event_id)
    if event is None or event.incident_id is None:
        return None
    incident = store.get_incident(event.incident_id)
    return incident if incident and incident.status is IncidentStatus.ANALYZED else None


def drained(queue: Queue) -> bool:
    return queue.depth().total == 0


def held_by(gate: Handle) -> str | None:
    consumer: str | None = ray.get(gate.holding.remote())
    return consumer


def whole(system: System) -> dict[str, Any] | None:
    """The supervisor's status once both detectors are alive and looping."""
    status = system.status()
    alive = [d for d in status["detectors"] if d["running"]]
    return status if len(alive) == 2 else None


def submit(system: System) -> int:
    """A failure of a job of its own, stored and queued as ingestion does; its event id."""
    event_id = store_failure(system.store, system.github.new_job())
    enqueue(system.queue, event_id)
    return event_id


def test_a_stored_failure_flows_to_an_analyzed_incident(system: System) -> None:
    event_id = submit(system)

    incident = wait_for(partial(analyzed, system.store, event_id), what="the analyzed incident")
    wait_for(partial(drained, system.queue), what="the ack")  # after the plan is recorded

    assert incident.category is Category.DEPLOY_NETWORK
    assert incident.target.startswith("github:Codertocat/Hello-World:CodeQL/job-")
    assert any("failed to lookup address" in e["text"] for e in incident.evidence)
    [context] = system.store.audit_entries(subject=subject_of(incident.id), verb=ANALYZED_VERB)
    assert (context.actor, context.detail["event_id"]) == ("analyzer", event_id)
    assert incident.analysis is not None and incident.analysis["context"]["occurrences"] == 1
    plans = system.store.audit_entries(subject=subject_of(incident.id), verb=VERB)
    assert [(p.actor, p.verb) for p in plans] == [("remediator:github", VERB)]
    assert plans[0].detail["dry_run"] is True  # no policy: recorded, never carried out
    [action] = plans[0].detail["actions"]
    assert (action["kind"], action["status"]) == ("github.rerun_failed_jobs", "dry_run")


def test_a_failure_is_compared_with_its_jobs_last_passing_run(system: System) -> None:
    """The detector fetches the passing run's log through the GitHub connector and the failing
    commit's changed files through GitHub's compare API, and says what changed."""
    failing = system.github.new_job()
    job = failing["workflow_job"]
    passing = copy.deepcopy(failing)
    passing["workflow_job"].update(id=job["id"] + 500_000, conclusion="success")
    passing["workflow_job"]["head_sha"] = "a1" * 20
    # The passing run printed the same log up to the failure.
    green = b"\n".join(LOG.split(b"\n")[: LOG.count(b"\n") // 2]) + b"\n"
    system.github.storage.route("/blob/green.txt", Reply(200, green))
    system.github.api.route(
        logs_path(passing),
        Reply(302, headers={"Location": system.github.storage.url + "/blob/green.txt"}),
    )
    compare = {"files": [{"filename": "scripts/install-python.sh", "status": "modified"}]}
    system.github.api.route(
        f"/repos/Codertocat/Hello-World/compare/{'a1' * 20}...{job['head_sha']}",
        Reply(200, json.dumps(compare).encode()),
    )
    store_failure(system.store, passing, record_run=True)
    event_id = store_failure(system.store, failing, record_run=True)
    enqueue(system.queue, event_id)

    incident = wait_for(partial(analyzed, system.store, event_id), what="the analyzed incident")
    assert incident.analysis is not None
    changed = incident.analysis["root_cause"]["what_changed"]
    assert changed["changed_files"] == ["scripts/install-python.sh"]
    assert 0 < changed["new_line_count"] < changed["lines_compared"]
    assert any("failed to lookup address" in line["text"] for line in changed["new_lines"])
    assert incident.analysis["root_cause"]["history"]["status"] == "new"


def test_repeated_failures_of_one_job_are_one_incident(system: System) -> None:
    body = system.github.new_job()
    events = [store_failure(system.store, body) for _ in range(2)]
    for event_id in events:
        enqueue(system.queue, event_id)

    incidents = [wait_for(partial(analyzed, system.store, e), what=f"event {e}").id for e in events]
    wait_for(partial(drained, system.queue), what="the acks")

    assert incidents[0] == incidents[1]
    incident = system.store.get_incident(incidents[0])
    assert incident is not None
    assert (incident.occurrences, incident.category) == (2, Category.DEPLOY_NETWORK)
    assert len(system.store.audit_entries(subject=subject_of(incident.id), verb=VERB)) == 2
    assert len(system.store.audit_entries(subject=subject_of(incident.id), verb=ANALYZED_VERB)) == 2


def test_a_stored_failure_that_was_never_queued_is_swept_and_analyzed(system: System) -> None:
    # Stored a minute ago, and the process died before queueing it: only the sweep finds it.
    received = datetime.now(UTC) - timedelta(minutes=1)
    event_id = store_failure(system.store, system.github.new_job(), received_at=received)

    incident = wait_for(partial(analyzed, system.store, event_id), what="the swept event")
    wait_for(partial(drained, system.queue), what="the ack")

    assert incident.occurrences == 1
    sources = system.status()["sources"]
    assert sources["github"]["enqueued"] >= 1 and sources["github"]["running"]


def test_an_analyzer_gone_for_good_is_replaced_and_the_detectors_use_the_new_one(
    system: System,
) -> None:
    before = system.status()["replaced"]
    old: Handle = ray.get(system.supervisor.analyzer.remote())
    ray.kill(old, no_restart=True)

    wait_for(lambda: system.status()["replaced"] > before, what="a new analyzer")
    event_id = submit(system)

    incident = wait_for(partial(analyzed, system.store, event_id), what="the analyzed incident")
    new: Handle = ray.get(system.supervisor.analyzer.remote())
    assert new != old
    assert system.status()["analyzer"]["analyzed"] >= 1
    assert incident.status is IncidentStatus.ANALYZED


def kill_mid_event(system: System, *, stage: str, restart: bool) -> None:
    """Stop a detector at `stage` of an event, kill it, and check the event's one incident."""
    ray.get(system.gate.arm.remote(stage))
    replaced_before = system.status()["replaced"]
    try:
        event_id = submit(system)
        victim = wait_for(partial(held_by, system.gate), what="a detector at the gate")
        ray.kill(system.detectors()[victim], no_restart=not restart)

        incident = wait_for(partial(analyzed, system.store, event_id), what="the reclaimed event")
        wait_for(partial(drained, system.queue), what="the ack")
    finally:
        ray.get(system.gate.release.remote())

    seen: list[tuple[str, int, str]] = ray.get(system.gate.seen.remote())
    assert {consumer for s, _, consumer in seen if s == stage} - {victim}, seen
    assert incident.occurrences == 1
    same_target = system.store.list_incidents(target=incident.target).items
    assert [i.id for i in same_target] == [incident.id]
    for verb in (VERB, ANALYZED_VERB):
        assert len(system.store.audit_entries(subject=subject_of(incident.id), verb=verb)) == 1
    # The pool is whole again: Ray restarted the detector, or the supervisor replaced it.
    status = wait_for(partial(whole, system), what="two live detectors")
    assert victim not in {d["consumer"] for d in status["detectors"]}
    assert status["replaced"] == replaced_before + (0 if restart else 1)


def test_killed_before_the_incident_is_stored_ray_restarts_it(system: System) -> None:
    kill_mid_event(system, stage="analyzed", restart=True)


def test_killed_after_the_incident_is_stored_before_the_ack(system: System) -> None:
    kill_mid_event(system, stage="stored", restart=False)
