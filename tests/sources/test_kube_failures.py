"""What the Kubernetes source calls a failure, on the client's own models (the objects a list or a
watch deserializes into), and that the text it writes for each is classified as the catalogue's
Kubernetes comments say it should be."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from kubernetes import client

from recoverops.detector import analyze_text
from recoverops.sources.kube_failures import (
    CRASH_LOOP,
    EVICTED,
    FAILED_SCHEDULING,
    IMAGE_PULL,
    JOB_FAILED,
    NODE_NOT_READY,
    OOM_KILLED,
    UNHEALTHY,
    Finding,
    event_finding,
    job_finding,
    node_finding,
    pod_findings,
)
from recoverops.sources.kube_owners import Lru, Workload
from recoverops.sources.kubernetes import Dedupe
from recoverops.taxonomy import Category

META = client.V1ObjectMeta(name="shop-7d9f8c6b5-x2x4z", namespace="prod")


def waiting(reason: str, message: str = "") -> client.V1ContainerState:
    return client.V1ContainerState(
        waiting=client.V1ContainerStateWaiting(reason=reason, message=message or None)
    )


def terminated(reason: str, code: int) -> client.V1ContainerState:
    return client.V1ContainerState(
        terminated=client.V1ContainerStateTerminated(reason=reason, exit_code=code)
    )


def pod(
    state: client.V1ContainerState,
    last: client.V1ContainerState | None = None,
    **status: object,
) -> client.V1Pod:
    container = client.V1ContainerStatus(
        name="shop",
        image="registry.example/shop:3.1",
        image_id="",
        ready=False,
        restart_count=7,
        state=state,
        last_state=last or client.V1ContainerState(),
    )
    fields = {"phase": "Running", "container_statuses": [container], **status}
    return client.V1Pod(metadata=META, status=client.V1PodStatus(**fields))


def event(
    reason: str, message: str, *, kind: str = "Pod", type_: str = "Warning"
) -> client.CoreV1Event:
    return client.CoreV1Event(
        metadata=client.V1ObjectMeta(name="e.1", namespace="prod"),
        involved_object=client.V1ObjectReference(
            kind=kind, name="shop-7d9f8c6b5-x2x4z", namespace="prod"
        ),
        reason=reason,
        message=message,
        type=type_,
        source=client.V1EventSource(component="kubelet"),
        count=4,
    )


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def text(finding: Finding) -> str:
    return "\n".join(finding.lines) + "\n"


EVICTION = (
    "The node was low on resource: memory. Container shop was using 1Gi, which exceeds its "
    "request of 256Mi."
)
PULL = 'rpc error: code = NotFound desc = failed to pull and unpack image "registry.example/shop"'
PROBE = 'Liveness probe failed: Get "http://10.2.0.7:8080/healthz": connect: connection refused'

# name: (what the source is shown, the cause it must find, the category its text must get)
CASES: dict[str, tuple[Callable[[], list[Finding]], str, Category]] = {
    "oom-crash-loop": (
        lambda: pod_findings(pod(waiting(CRASH_LOOP), terminated("OOMKilled", 137))),
        OOM_KILLED,
        Category.INFRA_CONTAINER,
    ),
    "crash-loop": (
        lambda: pod_findings(pod(waiting(CRASH_LOOP, "back-off 5m0s"), terminated("Error", 1))),
        CRASH_LOOP,
        Category.INFRA_CONTAINER,
    ),
    "oom-terminated": (
        lambda: pod_findings(pod(terminated("OOMKilled", 137), phase="Failed")),
        OOM_KILLED,
        Category.INFRA_CONTAINER,
    ),
    "image-pull": (
        lambda: pod_findings(pod(waiting("ErrImagePull", PULL))),
        IMAGE_PULL,
        Category.INFRA_CONTAINER,
    ),
    "evicted": (
        lambda: pod_findings(
            pod(waiting("ContainerCreating"), phase="Failed", reason="Evicted", message=EVICTION)
        ),
        EVICTED,
        Category.DEPLOY_RESOURCES,
    ),
    "unschedulable": (
        lambda: listed(event_finding(event("FailedScheduling", "0/5 nodes are available."))),
        FAILED_SCHEDULING,
        Category.DEPLOY_RESOURCES,
    ),
    "probe": (
        lambda: listed(event_finding(event("Unhealthy", PROBE))),
        UNHEALTHY,
        Category.INFRA_CONTAINER,
    ),
    "node-event": (
        lambda: listed(event_finding(event("NodeNotReady", "Node is not ready", kind="Node"))),
        NODE_NOT_READY,
        Category.INFRA_INSTANCE,
    ),
}


def listed(finding: Finding | None) -> list[Finding]:
    return [] if finding is None else [finding]


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_cause_is_found_and_its_text_classified(name: str) -> None:
    found, cause, category = CASES[name]
    finding = only(found())
    assert finding.cause == cause
    assert analyze_text(text(finding)).category is category


def test_a_not_ready_node_and_a_failed_job() -> None:
    node = client.V1Node(
        metadata=client.V1ObjectMeta(name="worker-2"),
        status=client.V1NodeStatus(
            conditions=[
                client.V1NodeCondition(
                    type="Ready",
                    status="Unknown",
                    reason="NodeStatusUnknown",
                    message="Kubelet stopped posting node status.",
                )
            ]
        ),
    )
    found = node_finding(node)
    assert found is not None and found.cause == NODE_NOT_READY and found.namespace == ""
    assert analyze_text(text(found)).category is Category.INFRA_INSTANCE
    job = client.V1Job(
        metadata=client.V1ObjectMeta(name="migrate", namespace="prod"),
        status=client.V1JobStatus(
            failed=7,
            conditions=[
                client.V1JobCondition(
                    type="Failed",
                    status="True",
                    reason="BackoffLimitExceeded",
                    message="Job has reached the specified backoff limit",
                )
            ],
        ),
    )
    failed = job_finding(job)
    assert failed is not None and failed.cause == JOB_FAILED and "7 Failed" in text(failed)


def test_healthy_objects_and_normal_events_are_not_failures() -> None:
    assert (
        pod_findings(pod(client.V1ContainerState(running=client.V1ContainerStateRunning()))) == []
    )
    assert pod_findings(pod(waiting("ContainerCreating"))) == []
    assert event_finding(event("Unhealthy", "Readiness probe failed", type_="Normal")) is None
    assert event_finding(event("Pulled", "Successfully pulled image")) is None
    gone = pod(waiting(CRASH_LOOP))
    gone.metadata = client.V1ObjectMeta(
        name="x", namespace="prod", deletion_timestamp=datetime.now(UTC)
    )
    assert pod_findings(gone) == []


def test_a_pod_with_two_failing_containers_is_one_finding_per_cause() -> None:
    first = pod(waiting(CRASH_LOOP), terminated("OOMKilled", 137))
    second = client.V1ContainerStatus(
        name="sidecar",
        image="proxy:1",
        image_id="",
        ready=False,
        restart_count=2,
        state=waiting(CRASH_LOOP),
        last_state=terminated("OOMKilled", 137),
    )
    first.status.container_statuses.append(second)
    found = only(pod_findings(first))
    assert found.containers == ("shop", "sidecar")


def test_the_dedupe_window_forgets_by_age_and_by_count() -> None:
    at = datetime(2026, 12, 2, tzinfo=UTC)
    dedupe: Dedupe[tuple[Workload, str]] = Dedupe(timedelta(minutes=10), limit=2)
    web, api, db = (Workload("prod", "Deployment", n) for n in ("web", "api", "db"))
    dedupe.remember((web, OOM_KILLED), at)
    assert dedupe.recent((web, OOM_KILLED), at + timedelta(minutes=9))
    assert not dedupe.recent((web, CRASH_LOOP), at)
    assert not dedupe.recent((web, OOM_KILLED), at + timedelta(minutes=10))  # out of the window
    assert len(dedupe) == 0
    for workload in (web, api, db):
        dedupe.remember((workload, OOM_KILLED), at)
    assert len(dedupe) == 2 and not dedupe.recent((web, OOM_KILLED), at)  # the oldest went first
    cache: Lru[str, int] = Lru(2)
    for key, value in (("a", 1), ("b", 2)):
        cache.put(key, value)
    assert cache.get("a") == 1  # now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), len(cache)) == (1, None, 2)


def test_a_warning_older_than_the_window_is_history() -> None:
    at = datetime(2026, 12, 2, 9, tzinfo=UTC)
    old = event("FailedScheduling", "0/5 nodes are available.")
    old.last_timestamp = at - timedelta(minutes=45)
    assert event_finding(old, since=at - timedelta(minutes=30)) is None
    old.last_timestamp = at - timedelta(minutes=5)  # it happened again since
    assert event_finding(old, since=at - timedelta(minutes=30)) is not None
