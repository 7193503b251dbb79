from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from recoverops.actors import job_identity
from recoverops.connectors import JobRef
from recoverops.incidents import Source
from recoverops.store import StoredEvent
from tests.actors.conftest import failure_body

WEBHOOKS = Path(__file__).parent.parent / "fixtures" / "webhooks"


def stored(source: Source, kind: str, payload: Any) -> StoredEvent:
    return StoredEvent(
        id=1,
        source=source,
        kind=kind,
        delivery_id="d",
        received_at=datetime.now(UTC),
        payload_ref="inline",
        payload=payload,
        processed_at=None,
        incident_id=None,
    )


def fixture(path: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((WEBHOOKS / path).read_text())
    return document


def test_github_workflow_job() -> None:
    payload = {"failure": True, "target": "Codertocat/Hello-World:CodeQL/linters"}
    job = job_identity(
        stored(Source.GITHUB, "workflow_job.completed", {**payload, "body": failure_body()})
    )

    assert job.target == "github:Codertocat/Hello-World:CodeQL/linters"
    assert job.ref == JobRef(source="github", project="Codertocat/Hello-World", job="289782451")


def test_gitlab_job() -> None:
    body = fixture("gitlab/go-gitlab-testdata-job.json")
    job = job_identity(stored(Source.GITLAB, "job", {"target": "g/p:test/rspec", "body": body}))

    assert job.target == "gitlab:g/p:test/rspec"
    assert job.ref == JobRef(
        source="gitlab", project=str(body["project_id"]), job=str(body["build_id"])
    )


def test_jenkins_build() -> None:
    body = fixture("jenkins/notification-plugin-help-example.json")
    job = job_identity(stored(Source.JENKINS, "build.finalized", {"target": "a/b", "body": body}))

    assert job.target == "jenkins:a/b"
    assert job.ref == JobRef(source="jenkins", project="a/b", job=str(body["build"]["number"]))


def failed(path: str, event: str) -> dict[str, Any]:
    """A real GitHub payload of `event`, concluded as a failure."""
    body = fixture(path)
    body[event].update(status="completed", conclusion="failure")
    return body


@pytest.mark.parametrize(
    ("source", "kind", "path", "event", "why"),
    [
        # One failed Actions job: its check run (same id as the job) and its run's check suite
        # and workflow run come beside the workflow_job event that is analyzed.
        (
            Source.GITHUB,
            "check_run.completed",
            "github/check_run/completed.1.payload.json",
            "check_run",
            "GitHub Actions job 128620228 is analyzed from its workflow_job event",
        ),
        (
            Source.GITHUB,
            "check_suite.completed",
            "github/check_suite/completed.1.payload.json",
            "check_suite",
            "a check suite fails through its check runs, each reported on its own",
        ),
        (
            Source.GITHUB,
            "workflow_run.completed",
            "github/workflow_run/completed.payload.json",
            "workflow_run",
            "a workflow run fails through its jobs, each a workflow_job event",
        ),
        (
            Source.GITLAB,
            "pipeline",
            "gitlab/go-gitlab-testdata-pipeline.json",
            None,
            "a pipeline fails through its jobs, each a job event",
        ),
    ],
)
def test_echoes_of_a_failed_job_are_covered_by_its_own_event(
    source: Source, kind: str, path: str, event: str | None, why: str
) -> None:
    body = failed(path, event) if event else fixture(path)
    job = job_identity(stored(source, kind, {"failure": True, "target": "o/r:x", "body": body}))

    assert (job.covered, job.ref, job.why) == (True, None, why)


def test_a_check_run_of_another_app_is_its_own_incident_without_a_log() -> None:
    body = failed("github/check_run/requested_action.payload.json", "check_run")
    payload = {"failure": True, "target": "electron/electron:checks/API Review", "body": body}
    job = job_identity(stored(Source.GITHUB, "check_run.completed", payload))

    assert (job.covered, job.ref) == (False, None)
    assert job.target == "github:electron/electron:checks/API Review"
    assert job.why == (
        "check run 'API Review' of electron-cation has no job log; "
        "see https://github.com/electron/cation"
    )


def test_a_workflow_run_that_never_started_a_job_is_its_own_incident() -> None:
    body = fixture("github/workflow_run/completed.payload.json")
    body["workflow_run"]["conclusion"] = "startup_failure"
    payload = {"failure": True, "target": "octo-org/octo-repo:CI", "body": body}
    job = job_identity(stored(Source.GITHUB, "workflow_run.completed", payload))

    assert (job.covered, job.ref) == (False, None)
    assert "startup_failure" in job.why and "no job ran" in job.why


def test_the_workflow_job_and_its_check_run_name_the_same_job() -> None:
    # GitHub gives an Actions job and its check run one id; the fixtures' workflow_job names
    # its check run in check_run_url, and the check run's own payload is keyed by that id.
    body = failure_body()
    check_run_id = body["workflow_job"]["check_run_url"].rsplit("/", 1)[1]
    job = job_identity(stored(Source.GITHUB, "workflow_job.completed", {"body": body}))
    echo = job_identity(
        stored(
            Source.GITHUB,
            "check_run.completed",
            {"body": {"check_run": {"id": int(check_run_id), "app": {"slug": "github-actions"}}}},
        )
    )

    assert job.ref is not None and not job.covered
    assert echo.covered and check_run_id in echo.why


def test_a_kind_that_names_no_job_says_so() -> None:
    job = job_identity(stored(Source.GITLAB, "note", {"target": "g/p", "body": {}}))

    assert (job.covered, job.ref, job.why) == (False, None, "a gitlab note event names no job")
