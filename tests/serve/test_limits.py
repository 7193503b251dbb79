"""What every body-taking route refuses before reading a payload: size and media type."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from recoverops.incidents import Source
from recoverops.serve import DEFAULT_MAX_BODY_BYTES
from tests.serve.harness import Backend, github_headers, payload_bytes

FAILED_JOB = "github/workflow_job/completed.failure.with-organization.payload.json"
LIMIT = 4096
ROUTES = (
    "/webhooks/github",
    "/webhooks/gitlab",
    "/webhooks/jenkins",
    "/analyze",
    "/incidents/1/feedback",
)


def test_the_default_limit_is_five_mebibytes() -> None:
    assert DEFAULT_MAX_BODY_BYTES == 5 * 1024 * 1024


@pytest.mark.parametrize("route", ROUTES)
def test_a_body_announced_over_the_limit_is_refused(sqlite_backend: Backend, route: str) -> None:
    with sqlite_backend.client(max_body_bytes=LIMIT) as client:
        response = client.post(
            route, content=b"{" + b" " * LIMIT + b"}", headers={"Content-Type": "application/json"}
        )

    assert response.status_code == 413
    assert response.json() == {
        "detail": f"body over the {LIMIT:,}-byte limit ({LIMIT + 2:,} bytes announced)",
        "reason": "too_large",
    }


@pytest.mark.parametrize("route", ROUTES)
def test_a_streamed_body_over_the_limit_is_refused(sqlite_backend: Backend, route: str) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(10):
            yield b" " * 1024

    with sqlite_backend.client(max_body_bytes=LIMIT) as client:
        response = client.post(
            route, content=chunks(), headers={"Content-Type": "application/json"}
        )

    assert response.status_code == 413
    assert response.json()["detail"] == f"body over the {LIMIT:,}-byte limit (more received)"


def test_a_signed_delivery_just_under_the_limit_is_taken(sqlite_backend: Backend) -> None:
    raw = payload_bytes(FAILED_JOB)
    with sqlite_backend.client(max_body_bytes=len(raw)) as client:
        response = client.post(
            "/webhooks/github", content=raw, headers=github_headers("workflow_job", "fits", raw)
        )
    assert response.status_code == 202


def test_a_refused_delivery_is_not_stored(sqlite_backend: Backend) -> None:
    raw = payload_bytes(FAILED_JOB)
    with sqlite_backend.client(max_body_bytes=len(raw) - 1) as client:
        response = client.post(
            "/webhooks/github", content=raw, headers=github_headers("workflow_job", "big", raw)
        )
    assert response.status_code == 413
    assert sqlite_backend.store.find_event(Source.GITHUB, "big") is None


@pytest.mark.parametrize(
    ("route", "content_type"),
    [
        ("/webhooks/github", "text/plain"),
        ("/webhooks/github", None),
        ("/webhooks/gitlab", "application/x-www-form-urlencoded"),
        ("/webhooks/gitlab", "text/json"),
        ("/webhooks/jenkins", "application/xml"),
        ("/analyze", "application/octet-stream"),
        ("/incidents/1/feedback", "text/plain"),
    ],
)
def test_another_media_type_is_refused(
    sqlite_client: TestClient, route: str, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}

    response = sqlite_client.post(route, content=b"{}", headers=headers)

    assert response.status_code == 415
    assert response.json()["reason"] == "unsupported_media_type"
    assert response.json()["detail"].endswith(f"not {content_type or 'missing'}")


def test_a_content_length_that_is_no_number_is_refused(sqlite_client: TestClient) -> None:
    response = sqlite_client.post(
        "/analyze", content=b"x", headers={"Content-Type": "text/plain", "Content-Length": "x"}
    )
    assert response.status_code == 400


def test_a_limit_must_be_positive(sqlite_backend: Backend) -> None:
    with pytest.raises(ValueError, match="max_body_bytes must be positive"):
        with sqlite_backend.client(max_body_bytes=0):
            pass
