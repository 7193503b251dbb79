"""The Kubernetes source against a real kube-apiserver and kube-controller-manager, with the
test-side kubelet reporting pods from their specs (an OOMKilled crash loop, an image that does not
pull): one queued failure event per workload and cause, resumed from the stored resourceVersion
without replaying, and a 410 Gone that lists again without losing or duplicating."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client, config

from recoverops.actors.process import process_event
from recoverops.connectors import JobRef, LogResult
from recoverops.detector import analyze_text
from recoverops.queue import OutboxQueue
from recoverops.settings import Settings
from recoverops.sources.kubernetes import SOURCE, KubeWatcher, WatchConfig
from recoverops.sources.sink import StoredSink
from recoverops.store import Store, StoredEvent
from recoverops.taxonomy import Category
from tests.kubernetes.cluster import KubeCluster
from tests.kubernetes.fixtures import (
    deployment,
    kube_api,
    kube_cluster,
    kube_namespace,
    kubelet,
    wait_until,
)
from tests.kubernetes.kubelet import Kubelet
from tests.tcp_proxy import proxied

__all__ = ["kube_api", "kube_cluster", "kube_namespace", "kubelet"]

MI = 2**20
PULLS_ONLY = {"registry.example/shop/api": {"1.0"}}
WINDOW = timedelta(minutes=30)
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(Settings(home=tmp_path / "home", database_url=None))
    yield opened
    opened.close()


@pytest.fixture
def queue(store: Store) -> OutboxQueue:
    return OutboxQueue(store, name="events")


@pytest.fixture
def failing(kubelet: Kubelet) -> Kubelet:
    """`web` needs 512Mi and is limited to 64Mi (OOMKilled); `api` pulls only tag 1.0."""
    kubelet.rules.memory_need["web"] = 512 * MI
    kubelet.rules.allowed_tags.update(PULLS_ONLY)
    return kubelet


def watcher(
    api: Any, namespace: str, store: Store, queue: OutboxQueue, *, at: datetime
) -> KubeWatcher:
    config = WatchConfig(namespace=namespace, watch_seconds=1, dedupe_window=WINDOW, save_every=0)
    return KubeWatcher(
        api, store=store, sink=StoredSink(store, queue), config=config, clock=lambda: at
    )


def create(api: Any, namespace: str, name: str, **spec: Any) -> None:
    manifest = deployment(name, container=name, **spec)
    client.AppsV1Api(api).create_namespaced_deployment(namespace, manifest)


def failing_pods(api: Any, namespace: str, name: str, reason: str) -> int:
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=f"app={name}").items
    waiting = [
        s.state.waiting.reason
        for p in pods
        for s in (p.status.container_statuses or [])
        if s.state and s.state.waiting
    ]
    return sum(1 for r in waiting if r == reason)


def no_fetch(ref: JobRef) -> LogResult:
    raise AssertionError(f"a watched failure brings its text; nothing is fetched for {ref}")


def drained(store: Store, queue: OutboxQueue) -> list[StoredEvent]:
    """What the detectors would do with the queue: each event to its incident, then acked."""
    messages = queue.claim("test", limit=100)
    for message in messages:
        process_event(store, message.payload["event_id"], fetch=no_fetch, analyze=analyze_text)
    queue.ack(messages)
    events = [store.get_event(m.payload["event_id"]) for m in messages]
    return [e for e in events if e is not None]


def targets(events: list[StoredEvent]) -> list[tuple[str, str]]:
    return sorted((e.payload["target"], e.payload["cause"]) for e in events)


def seen(watch: KubeWatcher, count: int) -> bool:
    return watch.stored + watch.known + watch.suppressed >= count


def test_one_queued_failure_per_workload_and_cause(
    kube_api: Any, kube_namespace: str, failing: Kubelet, store: Store, queue: OutboxQueue
) -> None:
    ns = kube_namespace
    watch = watcher(kube_api, ns, store, queue, at=T0).start()
    try:
        create(kube_api, ns, "web", image="registry.example/shop/web:2.0", memory_limit="64Mi")
        create(kube_api, ns, "api", image="registry.example/shop/api:9.9")
        wait_until(lambda: failing_pods(kube_api, ns, "web", "CrashLoopBackOff") == 2, what="OOM")
        wait_until(lambda: failing_pods(kube_api, ns, "api", "ImagePullBackOff") == 2, what="pull")
        # Both pods of each workload seen failing: one stored, the other suppressed.
        wait_until(lambda: watch.stored == 2 and watch.suppressed >= 2, what="the watcher")
    finally:
        watch.stop()
    events = drained(store, queue)
    assert targets(events) == [
        (f"{ns}/Deployment/api", "ImagePullBackOff"),
        (f"{ns}/Deployment/web", "OOMKilled"),
    ]
    oom = next(e for e in events if e.payload["cause"] == "OOMKilled")
    text = oom.payload["text"]
    assert "Controlled By:  Deployment/web" in text
    assert "Reason:       OOMKilled" in text and "Exit Code:    137" in text
    assert "Logs of web (previous instance" in text  # no kubelet here: it says why there are none
    assert analyze_text(text).category is Category.INFRA_CONTAINER
    # The pipeline took it to one incident of the workload, from the text it carries.
    incident = store.get_incident(oom.incident_id or 0)
    assert incident is not None and incident.target == f"kubernetes:{ns}/Deployment/web"
    assert incident.category is Category.INFRA_CONTAINER
    stats = watch.stats()
    assert stats["streams"]["pods"]["position"] == store.source_position(SOURCE, f"pods@{ns}")
    assert stats["streams"]["pods"]["errors"] == 0 and stats["dedupe_keys"] == 2


def test_a_restart_resumes_from_the_stored_position_without_replaying(
    kube_api: Any, kube_namespace: str, failing: Kubelet, store: Store, queue: OutboxQueue
) -> None:
    ns = kube_namespace
    first = watcher(kube_api, ns, store, queue, at=T0).start()
    try:
        create(kube_api, ns, "web", image="registry.example/shop/web:2.0", memory_limit="64Mi")
        wait_until(lambda: failing_pods(kube_api, ns, "web", "CrashLoopBackOff") == 2, what="OOM")
        wait_until(lambda: seen(first, 2), what="the first watcher")
    finally:
        first.stop()
    assert targets(drained(store, queue)) == [(f"{ns}/Deployment/web", "OOMKilled")]
    create(kube_api, ns, "api", image="registry.example/shop/api:9.9")  # while nobody watches
    wait_until(lambda: failing_pods(kube_api, ns, "api", "ImagePullBackOff") == 2, what="pull")
    # Two windows later: a replay of `web` would be stored again, not refused as a repeat.
    second = watcher(kube_api, ns, store, queue, at=T0 + 2 * WINDOW).start()
    try:
        wait_until(lambda: seen(second, 2), what="the second watcher")
    finally:
        second.stop()
    assert targets(drained(store, queue)) == [(f"{ns}/Deployment/api", "ImagePullBackOff")]
    pods = second.stats()["streams"]["pods"]
    assert pods["lists"] == 0 and pods["relists"] == 0 and second.stored == 1


def warn(api: Any, namespace: str, pod: str, reason: str, message: str) -> None:
    """A Warning event about `pod`, as the kubelet or the scheduler would report it."""
    client.CoreV1Api(api).create_namespaced_event(
        namespace,
        {
            "metadata": {"generateName": f"{pod}."},
            "involvedObject": {"kind": "Pod", "name": pod, "namespace": namespace},
            "reason": reason,
            "message": message,
            "type": "Warning",
            "source": {"component": "kubelet"},
            "firstTimestamp": T0.isoformat(),
            "lastTimestamp": T0.isoformat(),
            "count": 1,
        },
    )


def pods_of(api: Any, namespace: str, name: str) -> list[str]:
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=f"app={name}").items
    return sorted(p.metadata.name for p in pods)


def compact_etcd(cluster: KubeCluster) -> None:
    """What the API server does every five minutes, now: history before today is gone."""
    argv = cluster.processes[0].args  # etcd's command line
    assert isinstance(argv, list)
    url = str(argv[argv.index("--listen-client-urls") + 1])
    with httpx.Client(timeout=10) as etcd:
        now = etcd.post(f"{url}/v3/kv/range", json={"key": "AA=="}).json()["header"]["revision"]
        etcd.post(f"{url}/v3/kv/compaction", json={"revision": now, "physical": True})


def test_an_expired_position_lists_again_without_losing_or_duplicating(
    kube_api: Any, kube_cluster: KubeCluster, kube_namespace: str, store: Store, queue: OutboxQueue
) -> None:
    ns = kube_namespace
    create(kube_api, ns, "web", image="registry.example/shop/web:2.0")
    create(kube_api, ns, "api", image="registry.example/shop/api:1.0")
    web = wait_until(
        lambda: pods_of(kube_api, ns, "web") if len(pods_of(kube_api, ns, "web")) == 2 else None,
        what="web's pods",
    )
    api = wait_until(lambda: pods_of(kube_api, ns, "api") or None, what="api's pods")
    first = watcher(kube_api, ns, store, queue, at=T0).start()
    try:
        for pod in web:  # two pods, one workload and cause
            warn(
                kube_api,
                ns,
                pod,
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
            )
        wait_until(lambda: seen(first, 2), what="the first watcher")
    finally:
        first.stop()
    assert targets(drained(store, queue)) == [(f"{ns}/Deployment/web", "Unhealthy")]
    warn(
        kube_api, ns, api[0], "FailedScheduling", "0/3 nodes are available: 3 Insufficient memory."
    )
    # One more write, then compaction up to it: the events' stored position is now too old to
    # watch from (compaction keeps the revision it is made at).
    client.CoreV1Api(kube_api).create_namespaced_config_map(ns, {"metadata": {"name": "later"}})
    compact_etcd(kube_cluster)
    second = watcher(kube_api, ns, store, queue, at=T0).start()
    try:
        wait_until(lambda: second.stats()["streams"]["events"]["relists"] == 1, what="a 410")
        wait_until(lambda: seen(second, 3), what="the listed events")
    finally:
        second.stop()
    events = second.stats()["streams"]["events"]
    assert events["lists"] == 1 and events["errors"] == 0
    # Not lost: api's failure came while nobody watched. Not duplicated: web's was stored.
    assert second.stored == 1 and second.known == 1
    fresh = drained(store, queue)
    assert targets(fresh) == [(f"{ns}/Deployment/api", "FailedScheduling")]
    assert analyze_text(fresh[0].payload["text"]).category is Category.DEPLOY_RESOURCES
    assert events["position"] == store.source_position(SOURCE, f"events@{ns}")


def test_failed_jobs_of_a_cronjob_are_one_failure_of_the_cronjob(
    kube_api: Any, kube_namespace: str, store: Store, queue: OutboxQueue
) -> None:
    ns = kube_namespace
    batch = client.BatchV1Api(kube_api)
    # batch/v1beta1 on this 1.20 API server, which this client has no typed API for.
    cron = client.CustomObjectsApi(kube_api).create_namespaced_custom_object(
        "batch",
        "v1beta1",
        ns,
        "cronjobs",
        {
            "apiVersion": "batch/v1beta1",
            "kind": "CronJob",
            "metadata": {"name": "nightly"},
            "spec": {
                "schedule": "0 3 * * *",
                "suspend": True,  # the test makes its runs
                "jobTemplate": {"spec": job_spec()},
            },
        },
    )
    owner = {
        "apiVersion": "batch/v1beta1",
        "kind": "CronJob",
        "name": "nightly",
        "uid": cron["metadata"]["uid"],
        "controller": True,
    }
    watch = watcher(kube_api, ns, store, queue, at=T0).start()
    try:
        for run in ("nightly-1", "nightly-2"):
            batch.create_namespaced_job(
                ns, {"metadata": {"name": run, "ownerReferences": [owner]}, "spec": job_spec()}
            )
            # What the Job controller writes once the Job's pods failed backoffLimit times.
            batch.patch_namespaced_job_status(
                run,
                ns,
                {
                    "status": {
                        "failed": 2,
                        "conditions": [
                            {
                                "type": "Failed",
                                "status": "True",
                                "reason": "BackoffLimitExceeded",
                                "message": "Job has reached the specified backoff limit",
                            }
                        ],
                    }
                },
            )
        wait_until(lambda: seen(watch, 2), what="both failed runs")
    finally:
        watch.stop()
    events = drained(store, queue)
    assert targets(events) == [(f"{ns}/CronJob/nightly", "JobFailed")]
    assert analyze_text(events[0].payload["text"]).category is Category.INFRA_CONTAINER


def job_spec() -> dict[str, Any]:
    return {
        "backoffLimit": 1,
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "migrate", "image": "shop/migrate:1"}],
            }
        },
    }


def test_a_lost_connection_is_retried_and_resumed_without_a_new_list(
    kube_api: Any,
    kube_cluster: KubeCluster,
    kube_namespace: str,
    failing: Kubelet,
    store: Store,
    queue: OutboxQueue,
    tmp_path: Path,
) -> None:
    ns = kube_namespace
    server = httpx.URL(kube_cluster.server)
    with proxied(("127.0.0.1", server.port or 443)) as proxy:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            kube_cluster.kubeconfig.read_text().replace(
                kube_cluster.server, f"https://127.0.0.1:{proxy.port}"
            )
        )
        through = config.new_client_from_config(config_file=str(kubeconfig))
        settings = WatchConfig(namespace=ns, watch_seconds=30, max_backoff=1.0, save_every=0)
        watch = KubeWatcher(
            through, store=store, sink=StoredSink(store, queue), config=settings, clock=lambda: T0
        ).start()
        try:
            create(kube_api, ns, "web", image="registry.example/shop/web:2.0", memory_limit="64Mi")
            wait_until(
                lambda: failing_pods(kube_api, ns, "web", "CrashLoopBackOff") == 2, what="OOM"
            )
            wait_until(lambda: seen(watch, 2), what="web's pods")
            proxy.cut()  # the API server vanishes under the open watches
            wait_until(lambda: watch.stats()["streams"]["pods"]["errors"] >= 1, what="an error")
            create(kube_api, ns, "api", image="registry.example/shop/api:9.9")
            wait_until(
                lambda: failing_pods(kube_api, ns, "api", "ImagePullBackOff") == 2, what="pull"
            )
            proxy.restore()
            wait_until(lambda: seen(watch, 4), what="api's pods after the outage")
        finally:
            watch.stop()
            through.close()
    pods = watch.stats()["streams"]["pods"]
    assert pods["lists"] == 1 and pods["relists"] == 0 and pods["last_error"]
    assert targets(drained(store, queue)) == [
        (f"{ns}/Deployment/api", "ImagePullBackOff"),
        (f"{ns}/Deployment/web", "OOMKilled"),
    ]
