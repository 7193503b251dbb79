"""POST /incidents/{id}/fixes/{n}/pull-request: 201 with the merge request opened (GitLab's
documented response from a recorded-response server, the branch pushed to a local bare
repository), 200 when asked again, and each refusal with its status and a one-line reason."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from recoverops.incidents import Source
from recoverops.remediation.pull_requests import branch_for
from recoverops.store import Store
from tests.connectors.fake_server import Reply
from tests.remediation.pr_world import (
    EXAMPLE_MERGE_REQUEST,
    EXAMPLE_MERGE_REQUEST_URL,
    JSON,
    bare_repository,
    fix_analysis,
    job_event,
    refs,
    store_incident,
)
from tests.remediation.recorded_server import RecordedServer, recorded_server
from tests.serve.conftest import _open
from tests.serve.harness import Backend

TOKEN = "glpat-" + "routeTest0123456789x"
MERGE_REQUESTS = "/api/v4/projects/380/merge_requests"
# GitLab's answer to a token without the access it needs (its REST API docs, status codes).
FORBIDDEN = b'{"message": "403 Forbidden"}'


@pytest.fixture
def gitlab() -> Iterator[RecordedServer]:
    with recorded_server() as server:
        yield server


@pytest.fixture(params=["sqlite+outbox", "postgresql+outbox"])
def configured(request: pytest.FixtureRequest, gitlab: RecordedServer) -> Iterator[Backend]:
    """SQLite and PostgreSQL stores (the queue plays no part), the GitLab settings set."""
    for backend in _open(request, request.param):
        settings = backend.settings.model_copy(
            update={"gitlab_url": gitlab.url, "gitlab_token": SecretStr(TOKEN)}
        )
        yield replace(backend, settings=settings)


@pytest.fixture
def client(configured: Backend) -> Iterator[TestClient]:
    with configured.client() as client:
        yield client


def url(incident: int, n: int = 0) -> str:
    return f"/incidents/{incident}/fixes/{n}/pull-request"


def incident_in(store: Store, tmp_path: Path, *, delivery: str = "d-1") -> tuple[int, Path]:
    bare = tmp_path / "repos" / delivery
    bare.mkdir(parents=True)
    analysis = fix_analysis(bare)
    return (
        store_incident(
            store,
            source=Source.GITLAB,
            body=job_event(bare / "origin.git"),
            analysis=analysis,
            delivery=delivery,
        ),
        bare,
    )


def test_opened_once_then_answered_again(
    client: TestClient, configured: Backend, gitlab: RecordedServer, tmp_path: Path
) -> None:
    gitlab.route("GET", MERGE_REQUESTS, Reply(200, b"[]", JSON))
    gitlab.route("POST", MERGE_REQUESTS, Reply(201, EXAMPLE_MERGE_REQUEST.read_bytes(), JSON))
    incident, root = incident_in(configured.store, tmp_path)
    bare = bare_repository(root)

    first = client.post(url(incident))
    again = client.post(url(incident))

    assert first.status_code == 201, first.text
    made = first.json()
    branch = branch_for(incident, 0, "compilation")
    assert made["url"] == EXAMPLE_MERGE_REQUEST_URL and made["created"] is True
    assert (made["branch"], made["base"], made["forge"]) == (branch, "master", "gitlab")
    assert refs(bare)[f"refs/heads/{branch}"] == made["commit"]
    assert again.status_code == 200
    assert {**again.json(), "created": True} == made
    assert [r.method for r in gitlab.requests] == ["GET", "POST"]
    timeline = client.get(f"/incidents/{incident}").json()["timeline"]
    assert any(EXAMPLE_MERGE_REQUEST_URL in entry["detail"] for entry in timeline)


def test_refusals(
    client: TestClient, configured: Backend, gitlab: RecordedServer, tmp_path: Path
) -> None:
    store = configured.store
    incident, _ = incident_in(store, tmp_path)
    gitlab.route("GET", MERGE_REQUESTS, Reply(403, FORBIDDEN, JSON))
    for path, reason in ((url(999), "no incident 999"), (url(incident, 3), "has no fix 3")):
        answer = client.post(path)
        assert answer.status_code == 404 and reason in answer.json()["detail"]
        assert answer.json()["reason"] == "not_found"
    # GitLab refuses the token: its words, as a 502.
    answer = client.post(url(incident))
    assert answer.status_code == 502, answer.text
    assert answer.json() == {
        "detail": "GitLab answered HTTP 403: 403 Forbidden",
        "reason": "forge_failed",
    }
    # The repository is not there: git's words, without any token, as a 502.
    gitlab.route("GET", MERGE_REQUESTS, Reply(200, b"[]", JSON))
    answer = client.post(url(incident))
    assert answer.status_code == 502, answer.text
    assert answer.json()["reason"] == "forge_failed" and TOKEN not in answer.text
    assert "git ls-remote failed" in answer.json()["detail"]
    assert [r.method for r in gitlab.requests] == ["GET", "GET"]  # nothing opened


def test_a_fix_without_a_patch_is_a_conflict(client: TestClient, configured: Backend) -> None:
    from recoverops.detector import analyze_text
    from recoverops.diagnosis import diagnose
    from tests.remediation.pr_world import JAVAC_LOG

    text = JAVAC_LOG.read_text(errors="replace")
    analysis = diagnose(analyze_text(text), text=text)  # no checkout: no patch
    incident = store_incident(
        configured.store, source=Source.GITLAB, body={"project": {}}, analysis=analysis
    )
    answer = client.post(url(incident))
    assert answer.status_code == 409
    assert answer.json()["reason"] == "no_applicable_patch"
    assert "has no patch" in answer.json()["detail"]


def test_the_default_branch_is_refused(
    client: TestClient, configured: Backend, gitlab: RecordedServer, tmp_path: Path
) -> None:
    gitlab.route("GET", MERGE_REQUESTS, Reply(200, b"[]", JSON))
    incident, root = incident_in(configured.store, tmp_path)
    # The repository's default branch bears the very name the fix's branch would have.
    bare = bare_repository(root, default=branch_for(incident, 0, "compilation"))
    before = refs(bare)
    answer = client.post(url(incident))
    assert answer.status_code == 409, answer.text
    assert answer.json()["reason"] == "default_branch"
    assert refs(bare) == before
    assert [r.method for r in gitlab.requests] == ["GET"]


def test_no_token_is_unprocessable(sqlite_backend: Backend, tmp_path: Path) -> None:
    incident, _ = incident_in(sqlite_backend.store, tmp_path)
    with sqlite_backend.client() as client:
        answer = client.post(url(incident))
    assert answer.status_code == 422
    assert answer.json()["reason"] == "forge_not_configured"
    assert "RECOVEROPS_GITLAB_TOKEN is not set" in answer.json()["detail"]
