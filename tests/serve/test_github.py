"""POST /webhooks/github with GitHub's own example deliveries (octokit/webhooks)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from recoverops.incidents import Source
from recoverops.serve import create_app
from tests.serve.harness import (
    GITHUB_SECRET,
    WEBHOOKS,
    Backend,
    Response,
    github_headers,
    payload,
    payload_bytes,
    sign,
    unused_port,
)
from tests.serve.test_gitlab import failed_job
from tests.serve.test_jenkins import build

FAILED_JOB = "workflow_job/completed.failure.with-organization.payload.json"
# The deliveries among the examples that report a failure; every other one does not.
FAILURES = {FAILED_JOB, "check_run/completed.1.payload.json"}
GITHUB_PAYLOADS = sorted(
    str(path.relative_to(WEBHOOKS / "github")) for path in (WEBHOOKS / "github").rglob("*.json")
)


def post(client: TestClient, relative: str, delivery: str) -> Response:
    raw = payload_bytes(f"github/{relative}")
    event = Path(relative).parts[0]
    return client.post(
        "/webhooks/github", content=raw, headers=github_headers(event, delivery, raw)
    )


def test_every_example_delivery_is_taken_in_with_its_verdict(
    client: TestClient, backend: Backend
) -> None:
    assert len(GITHUB_PAYLOADS) == 30
    for number, relative in enumerate(GITHUB_PAYLOADS):
        response = post(client, relative, f"delivery-{number}")
        if relative.startswith("ping/"):
            assert response.status_code == 200, relative
            assert response.json()["ok"] is True
            continue
        assert response.status_code == 202, (relative, response.text)
        assert response.json()["failure"] is (relative in FAILURES), relative
    assert backend.waiting() == len(FAILURES)


def test_a_signed_failure_is_stored_then_queued(client: TestClient, backend: Backend) -> None:
    response = post(client, FAILED_JOB, "72d3162e-cc78-11e3-81ab-4c9367dc0958")

    assert response.status_code == 202
    answer = response.json()
    assert answer == {"event_id": answer["event_id"], "redelivery": False, "failure": True}
    stored = backend.store.find_event(Source.GITHUB, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert stored is not None and stored.id == answer["event_id"]
    assert stored.kind == "workflow_job.completed"
    assert stored.processed_at is None
    assert stored.payload == {
        "failure": True,
        "target": "Codertocat/Hello-World:CodeQL/linters",
        "body": payload(f"github/{FAILED_JOB}"),
    }
    [message] = backend.queue.claim("test")
    assert message.key == f"event:{stored.id}"
    assert message.payload == {
        "event_id": stored.id,
        "source": "github",
        "kind": "workflow_job.completed",
    }


def test_a_redelivery_answers_the_same_event_and_queues_it_once(
    client: TestClient, backend: Backend
) -> None:
    first = post(client, FAILED_JOB, "d-1")
    again = post(client, FAILED_JOB, "d-1")

    assert first.status_code == again.status_code == 202
    assert again.json() == {**first.json(), "redelivery": True}
    assert backend.waiting() == 1
    assert len(backend.queue.claim("test", limit=10)) == 1


def test_a_redelivery_of_a_processed_failure_is_not_queued_again(
    client: TestClient, backend: Backend
) -> None:
    event_id = post(client, FAILED_JOB, "d-2").json()["event_id"]
    messages = backend.queue.claim("detector")
    assert backend.store.mark_event_processed(event_id)
    backend.queue.ack(messages)

    again = post(client, FAILED_JOB, "d-2")

    assert again.status_code == 202 and again.json()["event_id"] == event_id
    assert backend.queue.depth().total == 0


def test_an_event_that_is_no_failure_is_stored_processed_and_not_queued(
    client: TestClient, backend: Backend
) -> None:
    response = post(client, "workflow_job/completed.success.with-organization.payload.json", "ok")

    assert response.status_code == 202 and response.json()["failure"] is False
    stored = backend.store.get_event(response.json()["event_id"])
    assert stored is not None and stored.processed_at is not None
    assert backend.queue.depth().total == 0


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "missing_credentials"),
        ("sha256=" + "0" * 64, "bad_credentials"),
        (sign(b"another body"), "bad_credentials"),
        (sign(payload_bytes(f"github/{FAILED_JOB}"), "another secret"), "bad_credentials"),
        (
            "sha1=" + sign(payload_bytes(f"github/{FAILED_JOB}")).removeprefix("sha256="),
            "bad_credentials",
        ),
    ],
    ids=["missing", "zeros", "other-body", "other-secret", "sha1-prefix"],
)
def test_a_bad_or_missing_signature_is_refused_and_nothing_stored(
    sqlite_client: TestClient, sqlite_backend: Backend, signature: str | None, reason: str
) -> None:
    raw = payload_bytes(f"github/{FAILED_JOB}")
    headers = github_headers("workflow_job", "unsigned", raw)
    del headers["X-Hub-Signature-256"]
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature

    response = sqlite_client.post("/webhooks/github", content=raw, headers=headers)

    assert response.status_code == 401
    assert response.json()["reason"] == reason
    assert sqlite_backend.store.find_event(Source.GITHUB, "unsigned") is None
    assert sqlite_backend.waiting() == 0


SECRETS = {
    "github": "github_webhook_secret",
    "gitlab": "gitlab_webhook_token",
    "jenkins": "jenkins_webhook_token",
}


def unsigned(sender: str) -> tuple[bytes, dict[str, str]]:
    """A failure report from `sender` with no signature or token: what anyone could send."""
    headers = {"Content-Type": "application/json"}
    if sender == "github":
        headers |= {"X-GitHub-Event": "workflow_job", "X-GitHub-Delivery": "open"}
        return payload_bytes(f"github/{FAILED_JOB}"), headers
    if sender == "gitlab":
        headers["X-Gitlab-Event"] = "Job Hook"
        return json.dumps(failed_job()).encode(), headers
    return json.dumps(build("FINALIZED", "FAILURE")).encode(), headers


@pytest.mark.parametrize("sender", sorted(SECRETS))
def test_a_webhook_without_a_secret_configured_refuses_unsigned_deliveries(
    sqlite_backend: Backend, sender: str
) -> None:
    settings = sqlite_backend.settings.model_copy(update={SECRETS[sender]: None})
    app = create_app(settings, store=sqlite_backend.store, queue=sqlite_backend.queue)
    raw, headers = unsigned(sender)
    with TestClient(app) as client:
        response = client.post(f"/webhooks/{sender}", content=raw, headers=headers)

    assert response.status_code == 403
    refusal = response.json()
    assert refusal["reason"] == "no_secret_configured"
    assert f"set RECOVEROPS_{SECRETS[sender].upper()}" in refusal["detail"]
    assert "RECOVEROPS_ENV=development" in refusal["detail"]
    assert sqlite_backend.waiting() == 0


@pytest.mark.parametrize("sender", sorted(SECRETS))
def test_in_development_a_webhook_without_a_secret_takes_unsigned_deliveries(
    sqlite_backend: Backend, sender: str
) -> None:
    settings = sqlite_backend.settings.model_copy(
        update={SECRETS[sender]: None, "env": "development"}
    )
    app = create_app(settings, store=sqlite_backend.store, queue=sqlite_backend.queue)
    raw, headers = unsigned(sender)
    with TestClient(app) as client:
        response = client.post(f"/webhooks/{sender}", content=raw, headers=headers)

    assert response.status_code == 202
    assert response.json()["failure"] is True


def test_ping_is_answered_with_its_zen(sqlite_client: TestClient) -> None:
    response = post(sqlite_client, "ping/payload.json", "ping-1")

    assert response.status_code == 200
    assert response.json() == {"ok": True, "zen": "Anything added dilutes everything else."}


def test_an_unsigned_ping_is_refused(sqlite_client: TestClient) -> None:
    response = sqlite_client.post(
        "/webhooks/github",
        content=payload_bytes("github/ping/payload.json"),
        headers={"Content-Type": "application/json", "X-GitHub-Event": "ping"},
    )
    assert response.status_code == 401


def test_other_event_types_are_accepted_and_ignored(
    sqlite_client: TestClient, sqlite_backend: Backend
) -> None:
    raw = json.dumps({"ref": "refs/heads/main"}).encode()
    response = sqlite_client.post(
        "/webhooks/github", content=raw, headers=github_headers("push", "push-1", raw)
    )

    assert response.status_code == 202
    assert response.json() == {
        "ignored": True,
        "event": "push",
        "reason": "RecoverOps reads no 'push' events",
    }
    assert sqlite_backend.store.find_event(Source.GITHUB, "push-1") is None


def test_a_form_encoded_delivery_is_read_from_its_payload_field(
    client: TestClient, backend: Backend
) -> None:
    form = urlencode({"payload": payload_bytes(f"github/{FAILED_JOB}").decode()}).encode()
    headers = {
        **github_headers("workflow_job", "form-1", form),
        "Content-Type": "application/x-www-form-urlencoded",
    }

    response = client.post("/webhooks/github", content=form, headers=headers)

    assert response.status_code == 202 and response.json()["failure"] is True
    stored = backend.store.find_event(Source.GITHUB, "form-1")
    assert stored is not None and stored.payload["body"] == payload(f"github/{FAILED_JOB}")


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        (b"{", "application/json", "body is not JSON: Expecting property name"),
        (b"[1, 2]", "application/json", "body is a JSON list, not an object"),
        (b"", "application/json", "empty body"),
        (b"\xff\xfe{}", "application/json", "body is not"),
        (b"other=1", "application/x-www-form-urlencoded", "form body has no payload field"),
        (b"payload=%7B", "application/x-www-form-urlencoded", "body is not JSON"),
        (
            json.dumps({"action": "completed", "repository": {"full_name": "o/r"}}).encode(),
            "application/json",
            "missing field workflow_job",
        ),
        (
            json.dumps(
                {
                    "action": "completed",
                    "repository": {"full_name": "o/r"},
                    "workflow_job": {"status": 3},
                }
            ).encode(),
            "application/json",
            "field status must be a string, not 3",
        ),
    ],
    ids=[
        "truncated",
        "array",
        "empty",
        "not-utf8",
        "no-payload",
        "bad-form-json",
        "no-job",
        "status-type",
    ],
)
def test_a_malformed_delivery_is_refused_with_the_reason(
    sqlite_client: TestClient, body: bytes, content_type: str, detail: str
) -> None:
    headers = {**github_headers("workflow_job", "bad", body), "Content-Type": content_type}

    response = sqlite_client.post("/webhooks/github", content=body, headers=headers)

    assert response.status_code == 400
    assert response.json()["reason"] == "malformed"
    assert response.json()["detail"].startswith(detail), response.json()


@pytest.mark.parametrize("missing", ["X-GitHub-Event", "X-GitHub-Delivery"])
def test_a_delivery_without_its_headers_is_refused(sqlite_client: TestClient, missing: str) -> None:
    raw = payload_bytes(f"github/{FAILED_JOB}")
    headers = github_headers("workflow_job", "d", raw)
    del headers[missing]

    response = sqlite_client.post("/webhooks/github", content=raw, headers=headers)

    assert response.status_code == 400
    assert response.json()["detail"] == f"missing {missing} header"


def test_json_with_a_charset_is_json(sqlite_client: TestClient) -> None:
    raw = payload_bytes(f"github/{FAILED_JOB}")
    headers = {
        **github_headers("workflow_job", "charset", raw),
        "Content-Type": "application/json; charset=utf-8",
    }
    assert sqlite_client.post("/webhooks/github", content=raw, headers=headers).status_code == 202


def test_an_event_stored_while_the_queue_is_down_is_queued_by_its_redelivery(
    backend: Backend,
) -> None:
    raw = payload_bytes(f"github/{FAILED_JOB}")
    headers = github_headers("workflow_job", "queue-down", raw)
    with unused_port() as port:
        down = backend.settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
        with TestClient(create_app(down, store=backend.store)) as client:
            refused = client.post("/webhooks/github", content=raw, headers=headers)

    assert refused.status_code == 503
    assert refused.json()["reason"] == "unavailable"
    stored = backend.store.find_event(Source.GITHUB, "queue-down")
    assert stored is not None and backend.waiting() == 0

    with backend.client() as client:
        redelivered = client.post("/webhooks/github", content=raw, headers=headers)

    assert redelivered.status_code == 202
    assert redelivered.json() == {"event_id": stored.id, "redelivery": True, "failure": True}
    assert backend.waiting() == 1


def test_the_example_secret_is_the_one_signed_with() -> None:
    # GitHub's documentation signs "Hello, World!" with this secret; the helper must agree.
    assert sign(b"Hello, World!", GITHUB_SECRET) == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )
