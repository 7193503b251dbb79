"""Deploy markers from each CI system's webhook, through the API (over every store and queue
pairing): recorded for successful runs too, one per run however many deliveries report it,
never queued as a failure; a deployment event that is not one is refused with the reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.serve.harness import (
    GITLAB_TOKEN,
    JENKINS_TOKEN,
    Backend,
    github_headers,
    payload,
)

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
EVERY = (T0 - timedelta(days=3650), T0 + timedelta(days=3650))


def markers(backend: Backend) -> list[Any]:
    return backend.store.deploys_between(start=EVERY[0], end=EVERY[1])


def github(api: TestClient, event: str, body: dict[str, Any], delivery: str) -> Any:
    raw = json.dumps(body).encode()
    return api.post("/webhooks/github", content=raw, headers=github_headers(event, delivery, raw))


def deployment(state: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": "created",
        "repository": {"full_name": "acme/shop"},
        "deployment": {
            "id": 9,
            "environment": "production",
            "task": "deploy",
            "created_at": "2026-12-02T09:00:00Z",
        },
    }
    if state is not None:
        body["deployment_status"] = {"state": state}
    return body


def test_github_deployment_events_are_one_marker_and_no_failure(
    client: TestClient, backend: Backend
) -> None:
    for event, state, delivery in (
        ("deployment", None, "g-1"),
        ("deployment_status", "in_progress", "g-2"),
        ("deployment_status", "success", "g-3"),
    ):
        response = github(client, event, deployment(state), delivery)
        assert response.status_code == 202, response.text
        assert response.json()["failure"] is False
    (marker,) = markers(backend)
    assert marker.status == "success" and marker.at == T0 and marker.environment == "production"
    assert backend.waiting() == 0


def test_a_deployment_event_without_its_deployment_is_refused(client: TestClient) -> None:
    body = deployment("success")
    del body["deployment"]
    response = github(client, "deployment_status", body, "g-bad")
    assert response.status_code == 400
    assert "missing field deployment" in response.text


def test_a_gitlab_job_that_starts_an_environment_is_recorded(
    client: TestClient, backend: Backend
) -> None:
    body = payload("gitlab/go-gitlab-testdata-job.json")
    headers = {
        "Content-Type": "application/json",
        "X-Gitlab-Event": "Job Hook",
        "X-Gitlab-Token": GITLAB_TOKEN,
        "X-Gitlab-Event-UUID": "gl-1",
    }
    response = client.post("/webhooks/gitlab", content=json.dumps(body), headers=headers)
    assert response.status_code == 202, response.text
    (marker,) = markers(backend)
    assert marker.source == "gitlab" and marker.environment == "production"
    assert marker.event_id == response.json()["event_id"]


def test_a_jenkins_deploy_job_is_recorded_at_each_phase_as_one_marker(
    client: TestClient, backend: Backend
) -> None:
    for phase, status in (("STARTED", None), ("FINALIZED", "SUCCESS")):
        body = {
            "name": "deploy-shop",
            "url": "job/deploy-shop/",
            "build": {"number": 3, "phase": phase, **({"status": status} if status else {})},
        }
        response = client.post(
            "/webhooks/jenkins",
            content=json.dumps(body),
            headers={"Content-Type": "application/json", "X-Jenkins-Token": JENKINS_TOKEN},
        )
        assert response.status_code == 202, response.text
    (marker,) = markers(backend)
    assert marker.key == "deploy-shop#3" and marker.status == "success"
    assert "shop" in marker.hints


def test_a_gitlab_deployment_hook_and_its_job_are_one_marker(
    client: TestClient, backend: Backend
) -> None:
    job = payload("gitlab/go-gitlab-testdata-job.json")
    project = job["project_name"]  # the job event names its project only so
    hook = {
        "object_kind": "deployment",
        "status": "failed",
        "status_changed_at": "2026-12-02 09:00:00 +0000",
        "deployment_id": 15,
        "deployable_id": job["build_id"],
        "environment": "production",
        "project": {"path_with_namespace": project},
    }
    for event, body, uuid in (("Job Hook", job, "gl-job"), ("Deployment Hook", hook, "gl-dep")):
        headers = {
            "Content-Type": "application/json",
            "X-Gitlab-Event": event,
            "X-Gitlab-Token": GITLAB_TOKEN,
            "X-Gitlab-Event-UUID": uuid,
        }
        response = client.post("/webhooks/gitlab", content=json.dumps(body), headers=headers)
        assert response.status_code == 202, response.text
        assert response.json()["failure"] is False
    (marker,) = markers(backend)
    assert marker.status == "failed" and marker.environment == "production"
    assert backend.waiting() == 0
