"""GET /metrics: what was received and refused, how deep the queue is, incidents by category,
and the pipeline's stage latencies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from recoverops.incidents import Event, Source
from recoverops.serve import create_app
from recoverops.serve.metrics import quantile
from recoverops.store.stages import ANALYZED_VERB
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


def test_stage_latencies_come_from_the_store_and_outlive_the_app(
    client: TestClient, backend: Backend
) -> None:
    raw = payload_bytes(FAILED_JOB)
    assert (
        client.post(
            "/webhooks/github", content=raw, headers=github_headers("workflow_job", "s-1", raw)
        ).status_code
        == 202
    )
    # What the actors would have written: detected 2 s after receipt, analyzed 1.5 s after that.
    store = backend.store
    received = datetime.now(UTC) - timedelta(seconds=2)
    event = store.add_event(Event(Source.GITHUB, "workflow_job.completed", "d", received, "-"))
    upsert = store.upsert_incident(
        "fp",
        target="t",
        category=Category.BUILD_TEST,
        source=Source.GITHUB,
        event_id=event.event_id,
    )
    stored = store.get_event(event.event_id)
    assert stored is not None and stored.processed_at is not None
    store.record_stage(
        upsert.incident.id,
        event_id=event.event_id,
        actor="analyzer",
        verb=ANALYZED_VERB,
        key="context",
        result={},
        stage="context",
        detail="",
        audit_extra={"started_at": (datetime.now(UTC) - timedelta(seconds=1.5)).isoformat()},
    )

    found = samples(client)

    for stage in ("ingest", "detect", "analyze"):
        assert value(found, "recoverops_stage_latency_samples", stage=stage) == 1, stage
    ingest = value(found, "recoverops_stage_latency_seconds", stage="ingest", quantile="0.5")
    detect = value(found, "recoverops_stage_latency_seconds", stage="detect", quantile="0.99")
    analyze = value(found, "recoverops_stage_latency_seconds", stage="analyze", quantile="0.5")
    assert 0 < ingest < 2
    assert 2 <= detect < 10
    assert 1.5 <= analyze < 10

    with backend.client() as restarted:  # a new app over the same store: nothing is lost
        again = samples(restarted)
    assert value(again, "recoverops_stage_latency_samples", stage="detect") == 1
    assert value(again, "recoverops_stage_latency_samples", stage="analyze") == 1
    assert value(again, "recoverops_stage_latency_samples", stage="ingest") == 0


def test_quantiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert [quantile(values, q) for q in (0.5, 0.9, 0.99)] == [50.0, 90.0, 99.0]
    assert quantile([3.0], 0.99) == 3.0


def test_the_watching_sources_positions_and_their_age(sqlite_backend: Backend) -> None:
    store = sqlite_backend.store
    store.save_source_position("kubernetes", "pods", "4711")
    store.save_source_position("kubernetes", "nodes", "opaque-token")
    with sqlite_backend.client() as client:
        found = samples(client)
    pods = {"source": "kubernetes", "stream": "pods"}
    assert value(found, "recoverops_source_position", **pods) == 4711
    assert 0 <= value(found, "recoverops_source_position_age_seconds", **pods) < 60
    nodes = {"source": "kubernetes", "stream": "nodes"}
    assert ("recoverops_source_position_age_seconds", frozenset(nodes.items())) in found
    assert ("recoverops_source_position", frozenset(nodes.items())) not in found  # not a number


def test_each_watched_streams_errors_lag_and_a_cloudwatch_position(sqlite_backend: Backend) -> None:
    store = sqlite_backend.store
    store.save_source_position("cloudwatch", "/aws/lambda/web", "1764666000123 a1,b2")
    store.source_caught_up(
        "cloudwatch", "/aws/lambda/web", datetime.now(UTC) - timedelta(minutes=2)
    )
    store.source_failed("cloudwatch", "/aws/lambda/web", "EndpointConnectionError: down")
    store.source_failed("cloudwatch", "/aws/lambda/web", "EndpointConnectionError: down")
    store.source_failed("kubernetes", "pods", "ApiException: 500")  # never caught up yet
    with sqlite_backend.client() as client:
        found = samples(client)
    web = {"source": "cloudwatch", "stream": "/aws/lambda/web"}
    assert value(found, "recoverops_source_position", **web) == 1764666000123
    assert value(found, "recoverops_source_errors_total", **web) == 2
    assert 120 <= value(found, "recoverops_source_lag_seconds", **web) < 180
    pods = {"source": "kubernetes", "stream": "pods"}
    assert value(found, "recoverops_source_errors_total", **pods) == 1
    assert ("recoverops_source_lag_seconds", frozenset(pods.items())) not in found
