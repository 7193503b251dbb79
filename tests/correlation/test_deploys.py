"""Which CI runs are deploys (on recorded webhook payloads and small made ones), and which
workloads a deploy is matched to: by the operator's mapping, by image, by name."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from recoverops.correlation import CorrelationRules, Identity, match, recognise
from recoverops.correlation.deploys import Deploy

WEBHOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)
RULES = CorrelationRules()


def recorded(relative: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((WEBHOOKS / relative).read_text())
    return document


def workflow_job(workflow: str, job: str, steps: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "action": "completed",
        "repository": {"full_name": "acme/shop"},
        "workflow_job": {
            "id": 7,
            "run_id": 70,
            "workflow_name": workflow,
            "name": job,
            "status": "completed",
            "conclusion": "success",
            "started_at": "2026-12-02T09:58:00Z",
            "steps": [{"name": step} for step in steps],
        },
    }


@pytest.mark.parametrize(
    ("workflow", "job", "steps"),
    [
        ("Deploy", "ship", ()),
        ("CD", "helm upgrade", ()),
        ("Main", "release-train", ("Checkout", "kubectl apply -f k8s/")),
        ("Main", "rollout", ()),
    ],
)
def test_a_workflow_job_that_names_a_deploy_is_one(
    workflow: str, job: str, steps: tuple[str, ...]
) -> None:
    deploy = recognise(
        "github", "workflow_job.completed", workflow_job(workflow, job, steps), at=NOW
    )
    assert deploy is not None
    assert deploy.repository == "acme/shop" and deploy.status == "success"
    assert deploy.key == "acme/shop:run:70"
    assert deploy.at == datetime(2026, 12, 2, 9, 58, tzinfo=UTC)  # the payload's own time
    assert {"acme/shop", "shop"} <= set(deploy.hints)


def test_builds_tests_and_releases_are_not_deploys() -> None:
    for workflow, job in (("CI", "test"), ("Release", "publish to PyPI"), ("Lint", "ruff")):
        assert (
            recognise("github", "workflow_job.completed", workflow_job(workflow, job), at=NOW)
            is None
        )
    # A recorded CodeQL job of the GitHub docs' examples.
    body = recorded("github/workflow_job/completed.success.with-organization.payload.json")
    assert recognise("github", "workflow_job.completed", body, at=NOW) is None


def test_a_job_with_an_environment_deploys_to_it() -> None:
    body = recorded("github/workflow_job/queued.with-deployment.payload.json")
    deploy = recognise("github", "workflow_job.queued", body, at=NOW)
    assert deploy is not None
    assert deploy.environment == body["deployment"]["environment"]
    assert "environment" in deploy.why


def test_github_deployment_status_events_are_deploys() -> None:
    body = {
        "action": "created",
        "repository": {"full_name": "acme/shop"},
        "deployment": {
            "id": 42,
            "environment": "production",
            "task": "deploy",
            "created_at": "2026-12-02T09:50:00Z",
            "payload": {"image": "ghcr.io/acme/shop-api:1.4"},
        },
        "deployment_status": {"state": "failure"},
    }
    deploy = recognise("github", "deployment_status.created", body, at=NOW)
    assert deploy is not None and deploy.failed
    assert deploy.key == "acme/shop:deployment:42"
    assert "ghcr.io/acme/shop-api:1.4" in deploy.hints and "env:production" in deploy.hints


def test_a_gitlab_job_that_starts_an_environment_is_a_deploy() -> None:
    body = recorded("gitlab/go-gitlab-testdata-job.json")
    deploy = recognise("gitlab", "job", body, at=NOW)
    assert deploy is not None
    assert deploy.environment == "production" and deploy.status == "success"
    assert "starts environment 'production'" in deploy.why
    assert (
        recognise("gitlab", "job", recorded("gitlab/go-gitlab-testdata-build.json"), at=NOW) is None
    )


def test_a_jenkins_job_named_deploy_is_one_and_its_scm_names_the_repository() -> None:
    body = {
        "name": "deploy-shop",
        "url": "job/platform/job/deploy-shop/",
        "build": {
            "number": 12,
            "phase": "FINALIZED",
            "status": "SUCCESS",
            "scm": {"url": "https://git.example/acme/shop.git"},
        },
    }
    deploy = recognise("jenkins", "build.finalized", body, at=NOW)
    assert deploy is not None
    assert deploy.repository == "acme/shop" and deploy.key == "platform/deploy-shop#12"
    assert "shop" in deploy.hints
    assert (
        recognise(
            "jenkins",
            "build.finalized",
            recorded("jenkins/notification-plugin-help-example.json"),
            at=NOW,
        )
        is None
    )


def shop_deploy(**changes: Any) -> Deploy:
    fields: dict[str, Any] = {
        "source": "github",
        "key": "acme/shop:run:1",
        "repository": "acme/shop",
        "name": "Deploy / helm",
        "environment": "",
        "status": "success",
        "why": "",
        "hints": ("acme/shop", "shop"),
        "at": NOW,
    }
    return Deploy(**{**fields, **changes})


def test_a_workload_matches_by_image_by_label_and_by_name() -> None:
    deploy = shop_deploy()
    by_image = Identity("storefront", "prod", images=("ghcr.io/acme/shop:1.4",))
    by_label = Identity("web-7", "prod", labels={"app.kubernetes.io/name": "shop"})
    by_name = Identity("shop", "prod")
    other = Identity(
        "billing", "prod", labels={"app": "billing"}, images=("ghcr.io/acme/billing:2",)
    )
    assert "image ghcr.io/acme/shop:1.4" in (match(deploy, by_image, RULES) or "")
    assert "named 'shop'" in (match(deploy, by_label, RULES) or "")
    assert match(deploy, by_name, RULES) is not None
    assert match(deploy, other, RULES) is None
    # An image of another repository whose path ends the same is not this one's.
    assert match(deploy, Identity("x", images=("ghcr.io/other/shopfront:1",)), RULES) is None


def test_the_operators_mapping_decides_for_the_repositories_it_lists() -> None:
    rules = CorrelationRules(mapping=CorrelationRules.parse_mapping("acme/shop=prod/storefront"))
    deploy = shop_deploy()
    assert match(deploy, Identity("storefront", "prod"), rules) is not None
    assert match(deploy, Identity("storefront", "staging"), rules) is None
    assert match(deploy, Identity("shop", "prod"), rules) is None  # the mapping, not the name
    with pytest.raises(ValueError, match="'acme/shop' is not repository=workload"):
        CorrelationRules.parse_mapping("acme/shop")
