"""GET /metrics: what was received and refused, how deep the queue is, incidents by category."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from recoverops.incidents import Event, Source
from recoverops.serve import create_app
from recoverops.taxonomy import Category
from tests.serve.harness import Backend, github_headers, payload_bytes, unused_port

FAILED_JOB = "github/workflow_job/completed.failure.with-organization.payload.json"


def samples(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_events_refusals_queue_depth_incidents_and_latency(
    client: TestClient, backend: Backend
) -> None:
    raw = payload_bytes(FAILED_JOB)
    headers = github_headers("workflow_job", "m-1", raw)
    for _ in range(2):
        assert client.post("/webhooks/github", content=raw, headers=headers).status_code == 202
    unsigned = {**headers, "X-Hub-Signature-256": "sha256=00"}
    assert client.post("/webhooks/github", content=raw, headers=unsigned).status_code == 401
    assert client.get("/incidents/12345").status_code == 404
    event = backend.store.add_event(Event(Source.GITLAB, "job", "g-1", datetime.now(UTC), "inline"))
    backend.store.upsert_incident(
        "fp",
        target="t",
        category=Category.DEPLOY_NETWORK,
        source=Source.GITLAB,
        event_id=event.event_id,
    )
    client.get("/nowhere")

    found = samples(client)

    assert value(found, "recoverops_events_received_total", source="github", outcome="stored") == 1
    assert (
        value(found, "recoverops_events_received_total", source="github", outcome="redelivered")
        == 1
    )
    assert (
        value(
            found,
            "recoverops_requests_rejected_total",
            route="/webhooks/github",
            reason="bad_credentials",
        )
        == 1
    )
    assert (
        value(
            found,
            "recoverops_requests_rejected_total",
            route="/incidents/{incident_id}",
            reason="not_found",
        )
        == 1
    )
    assert value(found, "recoverops_queue_depth", state="waiting") == 1
    assert value(found, "recoverops_queue_depth", state="in_flight") == 0
    assert value(found, "recoverops_incidents", category="deploy.network", status="open") == 1
    assert (
        value(
            found,
            "recoverops_request_duration_seconds_count",
            route="/webhooks/github",
            method="POST",
            status="202",
        )
        == 2
    )
    assert (
        value(
            found,
            "recoverops_request_duration_seconds_count",
            route="<unmatched>",
            method="GET",
            status="404",
        )
        == 1
    )


def test_each_app_counts_in_a_registry_of_its_own(sqlite_backend: Backend) -> None:
    raw = payload_bytes(FAILED_JOB)
    with sqlite_backend.client() as first:
        first.post(
            "/webhooks/github", content=raw, headers=github_headers("workflow_job", "a", raw)
        )
        with sqlite_backend.client() as second:
            found = samples(second)
    assert value(found, "recoverops_events_received_total", source="github", outcome="stored") == 0


def test_a_scrape_leaves_out_what_is_down_and_still_answers(sqlite_backend: Backend) -> None:
    store = sqlite_backend.store
    event = store.add_event(Event(Source.JENKINS, "build.finalized", "j", datetime.now(UTC), "-"))
    store.upsert_incident(
        "fp",
        target="j",
        category=Category.BUILD_TEST,
        source=Source.JENKINS,
        event_id=event.event_id,
    )
    with unused_port() as port:
        settings = sqlite_backend.settings.model_copy(
            update={"redis_url": f"redis://127.0.0.1:{port}/0"}
        )
        with TestClient(create_app(settings, store=store)) as client:
            found = samples(client)

    assert not any(name == "recoverops_queue_depth" for name, _ in found)
    assert value(found, "recoverops_incidents", category="build.test", status="open") == 1
