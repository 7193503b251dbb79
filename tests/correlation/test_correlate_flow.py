"""A deploy from CI and a crash of the workload it deployed become one incident, through the
real flow: the webhook into the API over PostgreSQL, the crash as the Kubernetes source stores
it (`StoredSink`, the pod's findings and identity as the watch builds them), the detector's
`process_event`, and the incident read back from the API.

    deploy (acme/shop, 09:00) ─► crash of prod/Deployment/shop at 09:03 ─► one incident whose
        root cause names the deploy
    crash of billing at 09:03 ─► its own incident, no deploy
    deploy (acme/web, 09:00), crash of web at 09:20 (past the 15 min window) ─► its own
        incident, no deploy
    crash of cart at 09:05, its deploy's webhook late (deploy started 09:01) ─► linked late,
        and the failed deploy job's own failure joins the crash's incident
    failed deploy of shop, then a crash of shop ─► the crash joins the deploy job's incident
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kubernetes import client

from recoverops.actors.detector import Detector, DetectorConfig
from recoverops.actors.process import process_event
from recoverops.connectors import JobRef, LogResult
from recoverops.correlation import CorrelationRules, Correlator
from recoverops.detector import analyze_text
from recoverops.incidents import Source
from recoverops.queue import OutboxQueue
from recoverops.settings import Settings
from recoverops.sources.kube_failures import pod_findings
from recoverops.sources.kube_owners import Workload
from recoverops.sources.kubernetes import workload_identity
from recoverops.sources.sink import StoredSink, WatchedFailure
from recoverops.store import Store, StoredEvent
from recoverops.taxonomy import Category
from tests.actors.conftest import wait_for
from tests.serve.harness import Backend, github_headers, with_secrets

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
RULES = CorrelationRules(window=timedelta(minutes=15))


@pytest.fixture
def backend(postgresql_settings: Settings) -> Iterator[Backend]:
    store = Store.open(postgresql_settings)
    queue = OutboxQueue(store, name="events")
    yield Backend("postgresql+outbox", with_secrets(postgresql_settings), store, queue)
    store.close()


@pytest.fixture
def api(backend: Backend) -> Iterator[TestClient]:
    with backend.client() as test_client:
        yield test_client


def no_log(ref: JobRef) -> LogResult:
    """A failed deploy job's log: not served in these tests (its incident says so)."""
    return LogResult.unavailable(f"no CI API in this test for {ref.project}#{ref.job}")


def deploy_job(repository: str, *, started: datetime, run: int, conclusion: str) -> dict[str, Any]:
    return {
        "action": "completed",
        "repository": {"full_name": repository},
        "workflow_job": {
            "id": run * 10,
            "run_id": run,
            "workflow_name": "Deploy",
            "name": "helm upgrade",
            "status": "completed",
            "conclusion": conclusion,
            "started_at": started.isoformat().replace("+00:00", "Z"),
            "steps": [{"name": "Checkout"}, {"name": "helm upgrade --install"}],
        },
    }


def deliver(
    api: TestClient, body: dict[str, Any], delivery: str, *, event: str = "workflow_job"
) -> dict[str, Any]:
    raw = json.dumps(body).encode()
    response = api.post(
        "/webhooks/github", content=raw, headers=github_headers(event, delivery, raw)
    )
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    return answer


def crashing_pod(app: str, image: str) -> client.V1Pod:
    """A pod of `app` in CrashLoopBackOff, as the API returns it to the watch."""
    return client.V1Pod(
        metadata=client.V1ObjectMeta(
            name=f"{app}-7d9f8c6b5-x2x4z",
            namespace="prod",
            labels={"app.kubernetes.io/name": app, "pod-template-hash": "7d9f8c6b5"},
        ),
        spec=client.V1PodSpec(containers=[client.V1Container(name=app, image=image)]),
        status=client.V1PodStatus(
            phase="Running",
            container_statuses=[
                client.V1ContainerStatus(
                    name=app,
                    image=image,
                    image_id="",
                    ready=False,
                    restart_count=5,
                    state=client.V1ContainerState(
                        waiting=client.V1ContainerStateWaiting(reason="CrashLoopBackOff")
                    ),
                    last_state=client.V1ContainerState(
                        terminated=client.V1ContainerStateTerminated(reason="Error", exit_code=1)
                    ),
                )
            ],
        ),
    )


def crash(app: str, *, at: datetime, image: str | None = None) -> WatchedFailure:
    """The failure the Kubernetes source stores for the pod: its describe lines, its workload
    (the Deployment `app`) and the identity a deploy is matched by."""
    pod = crashing_pod(app, image or f"ghcr.io/acme/{app}:1.4")
    (finding,) = pod_findings(pod)
    workload = Workload("prod", "Deployment", app)
    text = "\n".join([f"Controlled By:  Deployment/{app}", *finding.lines])
    text += "\nLogs of app (previous instance):\n  panic: config key DB_URL missing\n"
    return WatchedFailure(
        source=Source.KUBERNETES,
        kind=f"pods.{finding.cause}",
        delivery_id=f"{workload}|{finding.cause}|{at.isoformat()}",
        target=str(workload),
        cause=finding.cause,
        subject=finding.subject,
        text=text,
        seen_at=at,
        identity=workload_identity(workload, pod),
    )


def detect(backend: Backend, failure: WatchedFailure) -> int:
    """Store and queue the failure as the watch does, then run the detector's step on what is
    queued; the failure's incident."""
    assert isinstance(backend.queue, OutboxQueue)
    assert StoredSink(backend.store, backend.queue).put(failure)
    drain(backend)
    event = backend.store.find_event(Source.KUBERNETES, failure.delivery_id)
    assert event is not None and event.incident_id is not None
    return event.incident_id


def drain(backend: Backend) -> list[int]:
    """Run the detector's step on everything queued; the incidents of what it processed."""
    incidents = []
    for message in backend.queue.claim("detector", limit=10):
        outcome = process_event(
            backend.store,
            message.payload["event_id"],
            fetch=no_log,
            analyze=analyze_text,
            correlator=Correlator(backend.store, RULES),
        )
        backend.queue.ack([message])
        if outcome.incident_id is not None:  # None: an echo of a job's own event (covered)
            incidents.append(outcome.incident_id)
    return incidents


def incident(api: TestClient, incident_id: int) -> dict[str, Any]:
    response = api.get(f"/incidents/{incident_id}")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_a_deploy_then_a_crash_of_what_it_deployed_is_one_incident(
    backend: Backend, api: TestClient
) -> None:
    accepted = deliver(api, deploy_job("acme/shop", started=T0, run=1, conclusion="success"), "d-1")
    # A successful deploy is recorded as a marker: no failure, nothing queued, no incident.
    assert accepted["failure"] is False and backend.waiting() == 0
    (marker,) = backend.store.deploys_between(start=T0, end=T0)
    assert (
        marker.repository == "acme/shop"
        and marker.status == "success"
        and marker.event_id == accepted["event_id"]
    )
    assert api.get("/incidents").json()["items"] == []

    shop = detect(backend, crash("shop", at=T0 + timedelta(minutes=3)))
    billing = detect(backend, crash("billing", at=T0 + timedelta(minutes=3)))
    # web was deployed at 09:00 too, but crashes only at 09:20: past the window.
    deliver(api, deploy_job("acme/web", started=T0, run=4, conclusion="success"), "d-web")
    late = detect(backend, crash("web", at=T0 + timedelta(minutes=20)))

    found = incident(api, shop)
    assert found["category"] == Category.INFRA_CONTAINER.value
    cause = found["analysis"]["root_cause"]
    assert cause["components"][0]["kind"] == "deploy"
    assert cause["explanation"].startswith(
        "Likely caused by github deploy 'Deploy / helm upgrade' of acme/shop (success, "
        "2026-12-02 09:00:00 UTC), 3 min before the failure was first seen: the workload runs "
        "image ghcr.io/acme/shop:1.4, built from acme/shop."
    )
    assert cause["deploy"]["id"] == marker.id
    texts = [e["text"] for e in found["evidence"]]
    assert any("CrashLoopBackOff" in t for t in texts)  # the crash's side
    assert texts[-1].startswith("deploy: github deploy 'Deploy / helm upgrade' of acme/shop")
    assert [e["stage"] for e in found["timeline"]].count("correlated") == 1
    linked = {d.repository: d.incident_id for d in backend.store.deploys_between(start=T0, end=T0)}
    assert linked == {"acme/shop": shop, "acme/web": None}

    for unrelated in (billing, late):
        other = incident(api, unrelated)
        assert other["id"] != shop
        assert "correlation" not in other["analysis"]
        assert all(e["stage"] != "correlated" for e in other["timeline"])
    # One incident per workload and cause: three failures, three incidents, one correlated.
    assert len(api.get("/incidents").json()["items"]) == 3


def test_a_deploy_whose_webhook_comes_after_the_crash_is_linked_to_it(
    backend: Backend, api: TestClient
) -> None:
    cart = detect(backend, crash("cart", at=T0 + timedelta(minutes=5)))
    assert "correlation" not in incident(api, cart)["analysis"]

    # Started after the crash: not its cause, whenever its webhook comes.
    after = deploy_job("acme/cart", started=T0 + timedelta(minutes=6), run=2, conclusion="success")
    deliver(api, after, "d-after")
    assert "correlation" not in incident(api, cart)["analysis"]

    before = deploy_job("acme/cart", started=T0 + timedelta(minutes=1), run=3, conclusion="failure")
    accepted = deliver(api, before, "d-before")
    assert accepted["failure"] is True  # a failed deploy job is a CI failure to analyze too
    deliver(api, before, "d-before")  # a redelivery links nothing twice
    found = incident(api, cart)
    assert found["analysis"]["root_cause"]["deploy"]["status"] == "failure"
    assert "4 min before the failure" in found["analysis"]["root_cause"]["explanation"]
    assert [e["stage"] for e in found["timeline"]].count("correlated") == 1

    # The failed deploy job's own failure joins the crash's incident: one incident, both sides.
    assert drain(backend) == [cart]
    assert len(api.get("/incidents").json()["items"]) == 1
    found = incident(api, cart)
    assert found["occurrences"] == 2
    sides = {e.get("side") for e in found["evidence"]}
    assert "github:acme/cart:Deploy/helm upgrade" in sides
    assert "merged" in [e["stage"] for e in found["timeline"]]

    # A later occurrence brings a fresh analysis: the incident keeps its deploy.
    again = detect(backend, crash("cart", at=T0 + timedelta(minutes=40)))
    assert again == cart
    found = incident(api, cart)
    assert found["occurrences"] == 3
    assert found["analysis"]["root_cause"]["deploy"]["repository"] == "acme/cart"
    assert [e["stage"] for e in found["timeline"]].count("correlated") == 1


def test_a_failed_deploy_then_the_crash_it_caused_is_one_incident(
    backend: Backend, api: TestClient
) -> None:
    failed = deploy_job("acme/shop", started=T0, run=5, conclusion="failure")
    deliver(api, failed, "d-failed")
    (deploy_incident,) = drain(backend)  # the deploy job's failure, analyzed as CI failures are
    # Its workflow run's echo updates the run's marker and opens nothing.
    run = {
        "action": "completed",
        "repository": {"full_name": "acme/shop"},
        "workflow_run": {
            "id": 5,
            "name": "Deploy",
            "path": ".github/workflows/deploy.yml",
            "status": "completed",
            "conclusion": "failure",
            "run_started_at": "2026-12-02T09:00:00Z",
        },
    }
    deliver(api, run, "d-failed-run", event="workflow_run")
    assert drain(backend) == []

    shop = detect(backend, crash("shop", at=T0 + timedelta(minutes=2)))
    assert shop == deploy_incident
    (only,) = api.get("/incidents").json()["items"]
    assert only["id"] == shop and only["occurrences"] == 2
    found = incident(api, shop)
    cause = found["analysis"]["root_cause"]
    assert cause["deploy"]["repository"] == "acme/shop" and cause["deploy"]["status"] == "failure"
    texts = [
        e["text"] for e in found["evidence"] if e.get("side") == "kubernetes:prod/Deployment/shop"
    ]
    assert any("CrashLoopBackOff" in t for t in texts)  # the crash's side
    assert found["evidence"][-1]["text"].startswith("deploy: github deploy")
    stages = [e["stage"] for e in found["timeline"]]
    assert stages.count("merged") == 1 and stages.count("correlated") == 1


def test_the_detector_loop_correlates_by_the_settings_window_and_mapping(
    backend: Backend, api: TestClient
) -> None:
    settings = backend.settings.model_copy(
        update={"correlation_window_s": 300.0, "deploy_workloads": "acme/platform=prod/storefront"}
    )
    # A repository whose name says nothing of the workload: only the mapping ties them.
    deliver(api, deploy_job("acme/platform", started=T0, run=6, conclusion="success"), "d-map")
    assert isinstance(backend.queue, OutboxQueue)
    sink = StoredSink(backend.store, backend.queue)
    inside = crash("storefront", at=T0 + timedelta(minutes=2), image="registry.example/web:7")
    outside = crash("storefront", at=T0 + timedelta(minutes=6), image="registry.example/web:7")
    outside = replace(outside, cause="OOMKilled", kind="pods.OOMKilled", delivery_id="oom-1")
    assert sink.put(inside) and sink.put(outside)

    detector = Detector(settings, name="correlating", config=DetectorConfig(queue="events"))
    try:
        events = [
            wait_for(
                partial(_processed, backend.store, failure.delivery_id),
                what=f"the detector to process {failure.delivery_id}",
            )
            for failure in (inside, outside)
        ]
    finally:
        detector.stop()
    correlated, apart = (incident(api, event.incident_id or 0) for event in events)
    assert correlated["id"] != apart["id"]
    explanation = correlated["analysis"]["root_cause"]["explanation"]
    assert "acme/platform" in explanation
    assert "RECOVEROPS_DEPLOY_WORKLOADS maps acme/platform to prod/storefront." in explanation
    # The diagnosis of the crash's own text follows the deploy.
    components = correlated["analysis"]["root_cause"]["components"]
    assert components[0]["kind"] == "deploy" and len(components) > 1
    assert "correlation" not in apart["analysis"]  # 6 min after: past the 5 min window


def _processed(store: Store, delivery_id: str) -> StoredEvent | None:
    event = store.find_event(Source.KUBERNETES, delivery_id)
    return event if event is not None and event.processed_at is not None else None
