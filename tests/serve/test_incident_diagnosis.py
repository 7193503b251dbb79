"""GET /incidents/{id} and POST /analyze carry the root cause and the fix: the store keeps the
diagnosed analysis as JSON, so no migration is needed."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose
from recoverops.incidents import Event, Source
from tests.serve.harness import CASES, Backend

SUREFIRE_LOG = CASES / "plain-maven-surefire-failure" / "log.txt"
FIX_KEYS = {"kind", "files", "patch", "actions", "explanation", "confidence"}


def test_an_incident_shows_its_root_cause_and_fix(
    sqlite_client: TestClient, sqlite_backend: Backend
) -> None:
    text = SUREFIRE_LOG.read_text()
    analysis = diagnose(analyze_text(text), text=text)
    store = sqlite_backend.store
    event = store.add_event(
        Event(Source.JENKINS, "build.finalized", "a#1", datetime(2025, 3, 1, tzinfo=UTC), "inline")
    )
    incident_id = store.upsert_incident(
        "surefire",
        target="a",
        category=analysis.category,
        source=Source.JENKINS,
        event_id=event.event_id,
        analysis=analysis,
    ).incident.id

    detail = sqlite_client.get(f"/incidents/{incident_id}").json()["analysis"]

    test = detail["root_cause"]["components"][0]
    assert (test["kind"], test["name"]) == (
        "test",
        "retrofit2.RequestFactoryTest.malformedContentTypeHeaderThrows",
    )
    assert set(detail["fix"]) == FIX_KEYS and detail["fix"]["kind"] == "test"
    assert detail["fix"]["files"][0] == "src/test/java/retrofit2/RequestFactoryTest.java"


def test_analyze_answers_with_the_root_cause_and_fix(sqlite_client: TestClient) -> None:
    answer = sqlite_client.post(
        "/analyze",
        content=SUREFIRE_LOG.read_bytes(),
        headers={"content-type": "text/plain"},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["root_cause"]["components"][0]["kind"] == "test"
    assert set(body["fix"]) == FIX_KEYS
