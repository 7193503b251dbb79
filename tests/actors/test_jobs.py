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


@pytest.mark.parametrize(
    ("source", "kind"),
    [(Source.GITHUB, "workflow_run.completed"), (Source.GITLAB, "pipeline")],
)
def test_events_naming_no_job_say_so(source: Source, kind: str) -> None:
    job = job_identity(stored(source, kind, {"target": "o/r:ci", "body": {}}))

    assert job.ref is None
    assert job.why == f"a {source.value} {kind} event names no job"
