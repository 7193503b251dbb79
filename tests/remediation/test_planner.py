"""What a remediator plans for an incident, from recorded webhook payloads of each CI system."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from recoverops.incidents import IncidentStatus, Source
from recoverops.remediation.kinds import KINDS
from recoverops.remediation.model import System
from recoverops.remediation.planner import plan_for
from recoverops.store import StoredIncident
from recoverops.taxonomy import Category

WEBHOOKS = Path(__file__).parent.parent / "fixtures" / "webhooks"
NOW = datetime(2026, 12, 2, tzinfo=UTC)


def incident(category: Category) -> StoredIncident:
    return StoredIncident(
        id=7,
        fingerprint="f" * 64,
        target="t",
        category=category,
        source=Source.GITHUB,
        status=IncidentStatus.ANALYZED,
        occurrences=1,
        first_seen=NOW,
        last_seen=NOW,
        updated_at=NOW,
        analysis=None,
        evidence=(),
    )


def stored(relative: str) -> dict[str, Any]:
    return {"failure": True, "target": "t", "body": json.loads((WEBHOOKS / relative).read_text())}


@pytest.mark.parametrize(
    ("system", "payload", "kind", "params"),
    [
        (
            System.GITHUB,
            stored("github/workflow_job/completed.failure.with-organization.payload.json"),
            "github.rerun_failed_jobs",
            {"owner": "Octocoders", "repo": "Hello-World", "run_id": 2202229078},
        ),
        (
            System.GITLAB,
            stored("gitlab/gitlab-docs-job-event.json"),
            "gitlab.retry_job",
            {"project": "380", "job_id": 1977},
        ),
        (
            System.JENKINS,
            stored("jenkins/matrix-neb-received-example.json"),
            "jenkins.rebuild",
            {"job": "Synapse", "build": 8},
        ),
    ],
)
def test_a_transient_ci_failure_is_run_again(
    system: System, payload: dict[str, Any], kind: str, params: dict[str, Any]
) -> None:
    [spec] = plan_for(incident(Category.DEPLOY_NETWORK), payload=payload, system=system)
    assert (spec.kind, dict(spec.params), spec.incident_id) == (kind, params, 7)
    assert KINDS[kind].params.model_validate(spec.params).target()  # the kind takes them


def test_a_failure_of_the_code_itself_plans_nothing() -> None:
    payload = stored("github/workflow_job/completed.failure.with-organization.payload.json")
    assert plan_for(incident(Category.BUILD_TEST), payload=payload, system=System.GITHUB) == []


@pytest.mark.parametrize(
    "payload", [None, {"body": "not a mapping"}, {"body": {"workflow_job": {}}}]
)
def test_a_payload_without_what_a_rerun_needs_plans_nothing(payload: dict[str, Any] | None) -> None:
    assert plan_for(incident(Category.DEPLOY_NETWORK), payload=payload, system=System.GITHUB) == []


def test_a_jenkins_url_that_is_not_a_job_path_plans_nothing() -> None:
    payload = stored("jenkins/notification-plugin-help-example.json")  # url: "JobUrl"
    assert plan_for(incident(Category.DEPLOY_NETWORK), payload=payload, system=System.JENKINS) == []
