"""GET /incidents and GET /incidents/{id} over incidents the store holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from recoverops.analysis import Analysis, Evidence
from recoverops.detector import analyze_text
from recoverops.incidents import Event, IncidentStatus, Source
from recoverops.redaction import redact_line
from recoverops.store import Store
from recoverops.taxonomy import Category
from tests.planted_secrets import leaks, plant
from tests.serve.harness import CASES, Backend

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SUREFIRE_LOG = CASES / "plain-maven-surefire-failure" / "log.txt"


def occurrence(
    store: Store,
    number: int,
    *,
    fingerprint: str | None = None,
    category: Category = Category.BUILD_TEST,
    source: Source = Source.GITHUB,
) -> int:
    """An incident seen at START + `number` minutes, from an event of its own."""
    seen = START + timedelta(minutes=number)
    event_id = store.add_event(
        Event(source, "workflow_job.completed", f"d-{number}", seen, "inline")
    ).event_id
    upsert = store.upsert_incident(
        fingerprint or f"fp-{number}",
        target=f"octo/repo:ci/job-{number}",
        category=category,
        source=source,
        seen_at=seen,
        event_id=event_id,
    )
    return upsert.incident.id


def test_pages_walk_every_incident_newest_first_once(client: TestClient, backend: Backend) -> None:
    ids = [occurrence(backend.store, number) for number in range(5)]

    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        response = client.get("/incidents", params=params)
        assert response.status_code == 200
        page = response.json()
        seen.extend(item["id"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(ids))
    assert pages == 3


def test_filters_narrow_the_list(client: TestClient, backend: Backend) -> None:
    lint = occurrence(backend.store, 1, category=Category.BUILD_LINT)
    gitlab = occurrence(backend.store, 2, source=Source.GITLAB)
    analyzed = occurrence(backend.store, 3)
    backend.store.move_incident(analyzed, IncidentStatus.ANALYZED)

    def ids(**params: str) -> list[int]:
        response = client.get("/incidents", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids(category="build.lint") == [lint]
    assert ids(source="gitlab") == [gitlab]
    assert ids(status="analyzed") == [analyzed]
    assert ids(target="octo/repo:ci/job-2") == [gitlab]
    assert ids(category="build.test", status="open") == [gitlab]


def test_an_incident_waiting_for_its_log_is_listed_in_its_state_with_the_reason(
    client: TestClient, backend: Backend
) -> None:
    waiting = occurrence(backend.store, 1)
    occurrence(backend.store, 2)
    why = "logs unavailable: GitHub answered 401 (bad credentials)"
    backend.store.move_incident(waiting, IncidentStatus.LOGS_UNAVAILABLE, detail=why)

    listed = client.get("/incidents", params={"status": "logs_unavailable"}).json()["items"]
    detail = client.get(f"/incidents/{waiting}").json()

    assert [(item["id"], item["status"]) for item in listed] == [(waiting, "logs_unavailable")]
    last = detail["timeline"][-1]
    assert detail["status"] == last["stage"] == "logs_unavailable"
    assert last["detail"] == why


def test_an_incident_comes_with_its_analysis_evidence_and_timeline(
    client: TestClient, backend: Backend
) -> None:
    analysis = analyze_text(SUREFIRE_LOG.read_text())
    store = backend.store
    first = store.add_event(Event(Source.JENKINS, "build.finalized", "a#1", START, "inline"))
    again = store.add_event(Event(Source.JENKINS, "build.finalized", "a#2", START, "inline"))
    for event, minutes in ((first, 0), (again, 5)):
        incident_id = store.upsert_incident(
            "surefire",
            target="a",
            category=analysis.category,
            source=Source.JENKINS,
            seen_at=START + timedelta(minutes=minutes),
            event_id=event.event_id,
            analysis=analysis,
        ).incident.id

    response = client.get(f"/incidents/{incident_id}")

    assert response.status_code == 200
    detail = response.json()
    assert detail["category"] == "build.test" and detail["occurrences"] == 2
    assert detail["analysis"] == analysis.to_json()
    assert detail["evidence"] == analysis.to_json()["evidence"]
    assert [entry["stage"] for entry in detail["timeline"]] == ["open", "recurred"]
    assert detail["timeline"][1]["detail"] == "occurrence 2"


def test_a_row_stored_before_redaction_is_read_masked(
    sqlite_backend: Backend, sqlite_client: TestClient
) -> None:
    """What the dashboard shows of an incident an older version stored with a secret in it."""
    planted = plant("github classic")
    unmasked = Analysis(
        category=Category.SECURITY_SECRET,
        confidence=0.9,
        summary=f"bad credentials; line 3: {planted.line}",
        evidence=(Evidence(line=3, text=planted.line),),
        log_format="plain",
    )
    store = sqlite_backend.store
    event = store.add_event(Event(Source.GITHUB, "workflow_job.completed", "old", START, "inline"))
    incident_id = store.upsert_incident(
        "old-row",
        target="octo/repo:ci/deploy",
        category=unmasked.category,
        source=Source.GITHUB,
        event_id=event.event_id,
        analysis=unmasked,
    ).incident.id

    response = sqlite_client.get(f"/incidents/{incident_id}")

    assert response.status_code == 200
    assert leaks(planted.secret, response.text) == []
    assert response.json()["evidence"] == [{"line": 3, "text": redact_line(planted.line)}]


def test_an_unknown_incident_is_404(client: TestClient) -> None:
    response = client.get("/incidents/987654")
    assert response.status_code == 404
    assert response.json() == {"detail": "no incident 987654", "reason": "not_found"}


def test_a_cursor_that_was_not_handed_out_is_400(sqlite_client: TestClient) -> None:
    response = sqlite_client.get("/incidents", params={"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json()["reason"] == "malformed"
    assert "not a cursor this store handed out" in response.json()["detail"]


def test_unknown_filter_values_and_limits_are_422(sqlite_client: TestClient) -> None:
    for params in (
        {"category": "build.nothing"},
        {"status": "sleeping"},
        {"limit": 0},
        {"limit": 501},
        {"source": "svn"},
    ):
        assert sqlite_client.get("/incidents", params=params).status_code == 422, params
