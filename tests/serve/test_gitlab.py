"""POST /webhooks/gitlab with GitLab's pipeline and job hook examples."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recoverops.incidents import Source
from tests.serve.harness import GITLAB_TOKEN, Backend, Response, payload, payload_bytes

PIPELINE = "gitlab/go-gitlab-testdata-pipeline.json"
JOB_FILES = (
    "gitlab/go-gitlab-testdata-build.json",
    "gitlab/go-gitlab-testdata-job.json",
    "gitlab/gitlab-docs-job-event.json",
)


def post(
    client: TestClient,
    body: bytes | dict[str, Any],
    *,
    event: str = "Job Hook",
    token: str | None = GITLAB_TOKEN,
    **headers: str,
) -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", "X-Gitlab-Event": event, **headers}
    if token is not None:
        sent["X-Gitlab-Token"] = token
    return client.post("/webhooks/gitlab", content=raw, headers=sent)


def failed_job() -> dict[str, Any]:
    """The documented job hook, as GitLab sends it when the job failed."""
    job = payload("gitlab/gitlab-docs-job-event.json")
    return {**job, "build_status": "failed", "build_finished_at": "2021-02-23T02:43:10.000Z"}


def failed_pipeline() -> dict[str, Any]:
    pipeline = copy.deepcopy(payload(PIPELINE))
    pipeline["object_attributes"].update(status="failed", detailed_status="failed")
    return pipeline


def test_the_example_hooks_are_stored_and_none_is_a_failure(
    client: TestClient, backend: Backend
) -> None:
    answers = [post(client, payload_bytes(name)) for name in JOB_FILES]
    answers.append(post(client, payload_bytes(PIPELINE), event="Pipeline Hook"))

    assert [answer.status_code for answer in answers] == [202] * 4
    assert [answer.json()["failure"] for answer in answers] == [False] * 4
    # The build and the documented job event are two revisions of one example: one body each.
    assert len({answer.json()["event_id"] for answer in answers}) == 4
    assert backend.queue.depth().total == 0


def test_a_failed_job_is_stored_and_queued(client: TestClient, backend: Backend) -> None:
    response = post(client, failed_job(), **{"X-Gitlab-Event-UUID": "uuid-1"})

    assert response.status_code == 202 and response.json()["failure"] is True
    stored = backend.store.find_event(Source.GITLAB, "uuid-1")
    assert stored is not None and stored.kind == "job"
    assert stored.payload["target"] == "gitlab-org/gitlab-test:test/test"
    assert backend.waiting() == 1


def test_a_failed_pipeline_is_stored_and_queued(client: TestClient, backend: Backend) -> None:
    response = post(client, failed_pipeline(), event="Pipeline Hook")

    assert response.status_code == 202 and response.json()["failure"] is True
    stored = backend.store.get_event(response.json()["event_id"])
    assert stored is not None and stored.kind == "pipeline"
    assert stored.payload["target"] == "gitlab-org/gitlab-test:pipeline@master"
    assert backend.waiting() == 1


def test_a_failed_job_allowed_to_fail_is_no_failure(sqlite_client: TestClient) -> None:
    response = post(sqlite_client, {**failed_job(), "build_allow_failure": True})
    assert response.status_code == 202 and response.json()["failure"] is False


def test_redelivery_is_recognised_by_event_uuid_idempotency_key_or_body(
    client: TestClient, backend: Backend
) -> None:
    job = failed_job()
    by_uuid = [post(client, job, **{"X-Gitlab-Event-UUID": "same"}) for _ in range(2)]
    retried = [
        post(client, job, **{"Idempotency-Key": "key-1", "X-Gitlab-Event-UUID": uuid})
        for uuid in ("u-1", "u-2")
    ]
    bare = [post(client, job) for _ in range(2)]

    for first, again in (by_uuid, retried, bare):
        assert again.json() == {**first.json(), "redelivery": True}
    assert len({pair[0].json()["event_id"] for pair in (by_uuid, retried, bare)}) == 3
    assert backend.waiting() == 3
    digest = hashlib.sha256(json.dumps(job).encode()).hexdigest()
    assert backend.store.find_event(Source.GITLAB, f"sha256:{digest}") is not None


@pytest.mark.parametrize(
    ("token", "reason"), [(None, "missing_credentials"), ("wrong", "bad_credentials")]
)
def test_a_missing_or_wrong_token_is_refused(
    sqlite_client: TestClient, sqlite_backend: Backend, token: str | None, reason: str
) -> None:
    response = post(sqlite_client, failed_job(), token=token, **{"X-Gitlab-Event-UUID": "t"})

    assert response.status_code == 401 and response.json()["reason"] == reason
    assert sqlite_backend.store.find_event(Source.GITLAB, "t") is None


def test_other_hooks_are_accepted_and_ignored(sqlite_client: TestClient) -> None:
    response = post(sqlite_client, {"object_kind": "push"}, event="Push Hook")
    assert response.status_code == 202
    assert response.json() == {
        "ignored": True,
        "event": "Push Hook",
        "reason": "RecoverOps reads no 'Push Hook' events",
    }


@pytest.mark.parametrize(
    ("event", "body", "detail"),
    [
        ("Pipeline Hook", failed_job(), "X-Gitlab-Event is 'Pipeline Hook' but object_kind is"),
        ("Job Hook", {"object_kind": "build"}, "missing field project_name"),
        (
            "Pipeline Hook",
            {"object_kind": "pipeline", "project_name": "p"},
            "missing field object_attributes",
        ),
        ("Job Hook", {**failed_job(), "build_id": "1977"}, "field build_id must be an integer"),
    ],
    ids=["kind-mismatch", "no-project", "no-attributes", "id-type"],
)
def test_a_malformed_hook_is_refused_with_the_reason(
    sqlite_client: TestClient, event: str, body: dict[str, Any], detail: str
) -> None:
    response = post(sqlite_client, body, event=event)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail), response.json()


def test_a_hook_without_its_event_header_is_refused(sqlite_client: TestClient) -> None:
    response = sqlite_client.post(
        "/webhooks/gitlab",
        content=json.dumps(failed_job()),
        headers={"Content-Type": "application/json", "X-Gitlab-Token": GITLAB_TOKEN},
    )
    assert (
        response.status_code == 400 and response.json()["detail"] == "missing X-Gitlab-Event header"
    )


def test_json_with_a_charset_is_json(sqlite_client: TestClient) -> None:
    response = post(
        sqlite_client, failed_job(), **{"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 202
