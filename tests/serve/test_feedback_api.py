"""POST /incidents/{id}/feedback over incidents the store holds, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recoverops.auth import Role
from recoverops.detector import analyze_text
from recoverops.incidents import Source
from recoverops.models.features import feature_row
from recoverops.store import Store
from recoverops.taxonomy import Category
from tests.auth_tokens import bearer
from tests.serve.harness import CASES, Backend

SEEN = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SUREFIRE_LOG = CASES / "plain-maven-surefire-failure" / "log.txt"


def analyzed_incident(store: Store) -> int:
    analysis = analyze_text(SUREFIRE_LOG.read_text(encoding="utf-8", errors="replace"))
    upsert = store.upsert_incident(
        "fp-surefire",
        target="github:octo/repo:ci/test",
        category=analysis.category,
        source=Source.GITHUB,
        seen_at=SEEN,
        analysis=analysis,
        features=feature_row(analysis),
    )
    return upsert.incident.id


def test_a_correction_is_stored_shown_on_the_timeline_and_labels_the_incident(
    client: TestClient, backend: Backend
) -> None:
    incident_id = analyzed_incident(backend.store)

    # The body's operator (deprecated) is ignored: the token's subject is who said so.
    response = client.post(
        f"/incidents/{incident_id}/feedback",
        json={
            "category": "build.lint",
            "fix_outcome": "failed",
            "operator": "mallory",
            "note": "x",
        },
        headers=bearer(Role.OPERATOR, "alice"),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == backend.store.feedback_watermark()
    assert {k: body[k] for k in ("incident_id", "category", "fix_outcome", "operator", "note")} == {
        "incident_id": incident_id,
        "category": "build.lint",
        "fix_outcome": "failed",
        "operator": "alice",
        "note": "x",
    }
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
    detail = client.get(f"/incidents/{incident_id}").json()
    assert detail["timeline"][-1] == {
        "at": body["created_at"],
        "stage": "feedback",
        "detail": "alice corrected build.test to build.lint, fix failed: x",
    }
    [labelled] = backend.store.labelled_incidents()
    assert (labelled.incident_id, labelled.label) == (incident_id, Category.BUILD_LINT)


def test_an_outcome_alone_is_feedback_but_no_label(client: TestClient, backend: Backend) -> None:
    incident_id = analyzed_incident(backend.store)

    response = client.post(
        f"/incidents/{incident_id}/feedback", json={"fix_outcome": "worked", "operator": "bob"}
    )

    assert response.status_code == 201, response.text
    assert (response.json()["category"], response.json()["note"]) == (None, "")
    assert backend.store.count_labelled_feedback_after(0) == 0
    assert backend.store.labelled_incidents() == []


def test_feedback_on_an_unknown_incident_is_404(client: TestClient) -> None:
    response = client.post(
        "/incidents/999999/feedback", json={"category": "build.test", "operator": "alice"}
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "no incident 999999", "reason": "not_found"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"category": "build.nonsense", "operator": "alice"}, "category: Input should be"),
        ({"category": "build.test", "operator": "x" * 256}, "operator: String should have at most"),
        ({"operator": "alice"}, "give a category, a fix_outcome, or both"),
        ({"operator": "alice", "note": "only a note"}, "give a category, a fix_outcome, or both"),
        ({"fix_outcome": "maybe", "operator": "alice"}, "fix_outcome: Input should be 'worked'"),
        ({"categroy": "build.test", "operator": "alice"}, "categroy: Extra inputs"),
    ],
)
def test_a_body_that_says_nothing_usable_is_422_with_the_reason(
    sqlite_client: TestClient, sqlite_backend: Backend, body: dict[str, Any], reason: str
) -> None:
    incident_id = analyzed_incident(sqlite_backend.store)

    response = sqlite_client.post(f"/incidents/{incident_id}/feedback", json=body)

    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "invalid"
    assert reason in response.json()["detail"]
    assert sqlite_backend.store.feedback_watermark() == 0


@pytest.mark.parametrize(
    ("content", "status", "detail"),
    [
        (b"[1]", 400, "body is a JSON list, not an object"),
        (b"{", 400, "body is not JSON"),
        (b"", 400, "empty body"),
    ],
)
def test_a_body_that_is_no_json_object_is_400(
    sqlite_client: TestClient, sqlite_backend: Backend, content: bytes, status: int, detail: str
) -> None:
    incident_id = analyzed_incident(sqlite_backend.store)

    response = sqlite_client.post(
        f"/incidents/{incident_id}/feedback",
        content=content,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == status
    assert response.json()["detail"].startswith(detail)


def test_the_route_and_its_body_are_in_openapi(sqlite_client: TestClient) -> None:
    schema = sqlite_client.get("/openapi.json").json()

    operation = schema["paths"]["/incidents/{incident_id}/feedback"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "required" not in body  # who gives it is the token's subject
    assert set(body["properties"]) == {"category", "fix_outcome", "operator", "note"}
    assert body["properties"]["operator"]["deprecated"] is True
    assert "Category" in schema["components"]["schemas"]
    assert {"201", "404", "422"} <= set(operation["responses"])
    created = operation["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": "#/components/schemas/FeedbackOut"}
