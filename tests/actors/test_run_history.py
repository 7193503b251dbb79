"""A failure's history from the CI runs the webhooks reported: flaky, broken trunk, recurring with
its last fix, new. Through the real ingestion, detection and analyze stage, on PostgreSQL."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update

from recoverops.actors import analyze_incident, process_event
from recoverops.analysis import Analysis
from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose
from recoverops.incidents import Source
from recoverops.queue import OutboxQueue
from recoverops.serve.ingest import ingest
from recoverops.serve.services import QueueHandle
from recoverops.serve.webhooks import github
from recoverops.settings import Settings
from recoverops.store import Store
from recoverops.store.actions import ActionStore
from recoverops.store.tables import CiRunRow
from tests.actors.conftest import failure_body
from tests.actors.test_analyzer import log_ok

TRUNK = "master"  # the fixture repository's default branch


@pytest.fixture
def pg_store(postgresql_settings: Settings) -> Iterator[tuple[Store, QueueHandle]]:
    store = Store.open(postgresql_settings)
    queue = OutboxQueue(store, name=f"events-{uuid.uuid4().hex[:8]}")
    yield store, QueueHandle(postgresql_settings, store, queue)
    store.close()


def analyze(text: str) -> Analysis:
    """As the detector analyzes a log: the rules, then the root cause and fix."""
    return diagnose(analyze_text(text), text=text)


def run_body(
    *, sha: str, branch: str, run_id: int, attempt: int = 1, passed: bool, job_id: int
) -> dict[str, Any]:
    body = copy.deepcopy(failure_body(job_id=job_id, name="unit-tests"))
    job = body["workflow_job"]
    job.update(head_sha=sha, head_branch=branch, run_id=run_id, run_attempt=attempt)
    job["conclusion"] = "success" if passed else "failure"
    return body


def deliver(store: Store, queue: QueueHandle, body: dict[str, Any]) -> int:
    delivery = github.delivery("workflow_job", str(uuid.uuid4()), body)
    event_id: int = ingest(store, queue, source=Source.GITHUB, delivery=delivery).event_id
    return event_id


def fail(store: Store, queue: QueueHandle, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Deliver a failed run, detect and analyze it: (incident id, its stored analysis)."""
    event_id = deliver(store, queue, body)
    outcome = process_event(store, event_id, fetch=log_ok, analyze=analyze)
    assert outcome.incident_id is not None
    analyze_incident(store, outcome.incident_id, event_id=event_id)
    incident = store.get_incident(outcome.incident_id)
    assert incident is not None and incident.analysis is not None
    return incident.id, incident.analysis


def test_passing_runs_are_recorded_once_and_not_analyzed(
    pg_store: tuple[Store, QueueHandle],
) -> None:
    store, queue = pg_store
    body = run_body(sha="a" * 40, branch="feature", run_id=7, passed=True, job_id=1)
    delivery = github.delivery("workflow_job", "d-1", body)
    first = ingest(store, queue, source=Source.GITHUB, delivery=delivery)
    again = ingest(store, queue, source=Source.GITHUB, delivery=delivery)
    assert not first.queued and again.redelivery
    run = store.run_of_event(first.event_id)
    assert run is not None
    assert (run.outcome, run.commit_sha, run.branch, run.default_branch) == (
        "passed",
        "a" * 40,
        "feature",
        TRUNK,
    )
    assert (run.run_key, run.attempt, run.log_project, run.log_job) == (
        "7",
        1,
        "Codertocat/Hello-World",
        "1",
    )
    assert len(store.runs_on_commit(target=run.target, commit_sha="a" * 40)) == 1


def test_a_job_that_passed_on_the_same_commit_is_flaky_and_its_fix_is_a_rerun(
    pg_store: tuple[Store, QueueHandle],
) -> None:
    store, queue = pg_store
    sha = "b" * 40
    deliver(store, queue, run_body(sha=sha, branch="feature", run_id=10, passed=True, job_id=1))
    _, analysis = fail(
        store, queue, run_body(sha=sha, branch="feature", run_id=11, passed=False, job_id=2)
    )
    history = analysis["context"]["history"]
    assert history["status"] == "flaky" and history["flaky"] is True
    assert history["flaky_evidence"] == ["run 10 passed on the same commit"]
    assert analysis["root_cause"]["history"]["status"] == "flaky"
    assert analysis["fix"]["kind"] == "test" and analysis["fix"]["patch"] is None
    assert analysis["fix"]["actions"][0] == "rerun the job"


def test_a_rerun_attempt_that_flips_is_flaky(pg_store: tuple[Store, QueueHandle]) -> None:
    store, queue = pg_store
    sha = "c" * 40
    deliver(store, queue, run_body(sha=sha, branch="fix", run_id=20, passed=True, job_id=3))
    _, analysis = fail(
        store, queue, run_body(sha=sha, branch="fix", run_id=20, attempt=2, passed=False, job_id=4)
    )
    assert analysis["context"]["history"]["flaky_evidence"] == [
        "attempt 1 of run 20 passed, attempt 2 failed"
    ]


def test_the_same_failure_on_the_default_branch_within_7_days_is_broken_trunk(
    pg_store: tuple[Store, QueueHandle],
) -> None:
    store, queue = pg_store
    incident_id, first = fail(
        store, queue, run_body(sha="d" * 40, branch=TRUNK, run_id=30, passed=False, job_id=5)
    )
    assert first["context"]["history"]["status"] == "new"
    assert first["context"]["history"]["broken_trunk"] is False
    _, analysis = fail(
        store, queue, run_body(sha="e" * 40, branch="feature", run_id=31, passed=False, job_id=6)
    )
    history = analysis["context"]["history"]
    assert history["status"] == "broken-trunk" and history["broken_trunk"] is True
    assert [r["commit"] for r in history["broken_trunk_runs"]] == ["d" * 40]
    assert history["flaky"] is False  # nothing passed on commit e


def test_a_trunk_failure_older_than_7_days_is_not_broken_trunk_but_recurring_with_its_fix(
    pg_store: tuple[Store, QueueHandle],
) -> None:
    store, queue = pg_store
    incident_id, _ = fail(
        store, queue, run_body(sha="f" * 40, branch=TRUNK, run_id=40, passed=False, job_id=7)
    )
    # The trunk run happened ten days ago.
    with store.transaction() as session:
        session.execute(
            update(CiRunRow)
            .where(CiRunRow.run_key == "40")
            .values(finished_at=datetime.now(UTC) - timedelta(days=10))
        )
    ActionStore(store).create(
        key=f"rerun-{incident_id}",
        target="github:Codertocat/Hello-World:CodeQL/unit-tests",
        values=lambda _: {
            "incident_id": incident_id,
            "kind": "rerun",
            "risk": "low",
            "params": {},
            "status": "succeeded",
            "system": "github",
        },
        audits=lambda *_: [],
        incident=lambda _: None,
        now=datetime.now(UTC),
    )
    store.add_feedback(incident_id, category=None, fix_outcome="failed", operator="sre", note="")
    _, analysis = fail(
        store, queue, run_body(sha="0" * 40, branch="feature", run_id=41, passed=False, job_id=8)
    )
    history = analysis["context"]["history"]
    assert (history["status"], history["occurrences"]) == ("recurring", 2)
    assert history["broken_trunk"] is False
    assert history["last_fix"]["action"] == "rerun"
    assert history["last_fix"]["status"] == "succeeded"
    assert history["last_fix"]["outcome"] == "failed"


def test_without_a_recorded_run_flaky_and_broken_trunk_are_not_known(
    pg_store: tuple[Store, QueueHandle],
) -> None:
    store, queue = pg_store
    body = run_body(sha="1" * 40, branch="feature", run_id=50, passed=False, job_id=9)
    body["workflow_job"]["conclusion"] = "failure"
    body["action"] = "completed"
    event_id = deliver(store, queue, body)
    with store.transaction() as session:
        session.execute(delete(CiRunRow).where(CiRunRow.event_id == event_id))
    outcome = process_event(store, event_id, fetch=log_ok, analyze=analyze)
    assert outcome.incident_id is not None
    analyze_incident(store, outcome.incident_id, event_id=event_id)
    incident = store.get_incident(outcome.incident_id)
    assert incident is not None and incident.analysis is not None
    history = incident.analysis["context"]["history"]
    assert history["status"] == "new"
    assert history["flaky"] is None and history["broken_trunk"] is None


def test_a_failure_whose_rerun_passes_later_becomes_flaky_with_a_rerun_fix(
    pg_store: tuple[Store, QueueHandle],
) -> None:
    store, queue = pg_store
    sha = "9" * 40
    incident_id, first = fail(
        store, queue, run_body(sha=sha, branch="feature", run_id=60, passed=False, job_id=10)
    )
    assert first["context"]["history"]["status"] == "new"
    assert first["fix"] is None or first["fix"]["actions"][:1] != ["rerun the job"]

    passed = run_body(sha=sha, branch="feature", run_id=60, attempt=2, passed=True, job_id=11)
    delivery = github.delivery("workflow_job", "rerun-passed", passed)
    ingest(store, queue, source=Source.GITHUB, delivery=delivery)
    ingest(store, queue, source=Source.GITHUB, delivery=delivery)  # a redelivery changes nothing

    incident = store.get_incident(incident_id)
    assert incident is not None and incident.analysis is not None
    history = incident.analysis["context"]["history"]
    assert (history["status"], history["flaky"]) == ("flaky", True)
    assert history["flaky_evidence"] == ["attempt 2 of run 60 passed after attempt 1 failed"]
    assert incident.analysis["root_cause"]["history"]["flaky"] is True
    assert incident.analysis["fix"]["actions"][0] == "rerun the job"
    entries = store.audit_entries(subject=f"incident:{incident_id}", verb="incident.flaky")
    assert len(entries) == 1


def test_a_later_pass_on_another_commit_changes_nothing(
    pg_store: tuple[Store, QueueHandle],
) -> None:
    store, queue = pg_store
    incident_id, _ = fail(
        store, queue, run_body(sha="8" * 40, branch="feature", run_id=70, passed=False, job_id=12)
    )
    deliver(
        store, queue, run_body(sha="7" * 40, branch="feature", run_id=71, passed=True, job_id=13)
    )
    incident = store.get_incident(incident_id)
    assert incident is not None and incident.analysis is not None
    assert incident.analysis["context"]["history"]["status"] == "new"
    assert store.audit_entries(subject=f"incident:{incident_id}", verb="incident.flaky") == []
