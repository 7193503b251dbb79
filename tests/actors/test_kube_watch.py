"""The Kubernetes source actor, as plain Python (Ray only wraps it): from the settings' kubeconfig
to a queued failure, its stats where the supervisor reads every source's; an unreadable
kubeconfig is said in its stats, not raised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubernetes import client

from recoverops.actors.kube_watch import KubeWatchActor
from recoverops.queue import OutboxQueue
from recoverops.settings import Settings
from recoverops.sources.kubernetes import WatchConfig
from recoverops.store import Store
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

__all__ = ["kube_api", "kube_cluster", "kube_namespace", "kubelet"]


def test_the_actor_queues_a_watched_failure_and_reports_its_position(
    tmp_path: Path, kube_cluster: KubeCluster, kube_api: Any, kube_namespace: str, kubelet: Kubelet
) -> None:
    settings = Settings(home=tmp_path, database_url=None, kubeconfig=kube_cluster.kubeconfig)
    Store.open(settings).close()  # migrated, as the supervisor does before its actors start
    kubelet.rules.memory_need["app"] = 2**30
    config = WatchConfig(namespace=kube_namespace, watch_seconds=1)
    actor = KubeWatchActor(settings, config=config)
    try:
        manifest = deployment("web", image="shop/web:1", replicas=1, memory_limit="64Mi")
        client.AppsV1Api(kube_api).create_namespaced_deployment(kube_namespace, manifest)
        wait_until(lambda: actor.stats()["stored"] == 1, what="the OOMKilled pod")
    finally:
        final = actor.stop()
    assert final["source"] == "source:kubernetes" and final["running"] is False
    pods = final["streams"]["pods"]
    assert pods["errors"] == 0 and pods["lists"] == 1 and pods["lag_s"] is not None
    store = Store.open(settings, migrate=False)
    try:
        assert pods["position"] == store.source_position("kubernetes", f"pods@{kube_namespace}")
        health = {stream: (errors, to) for _, stream, errors, to in store.source_health()}
        errors, caught_up = health[f"pods@{kube_namespace}"]
        assert errors == 0 and caught_up is not None  # its lag, in /metrics
        messages = OutboxQueue(store, name="events").claim("test", limit=10)
        assert [m.payload["kind"] for m in messages] == ["pods.OOMKilled"]
    finally:
        store.close()


def test_an_unreadable_kubeconfig_is_reported_not_raised(tmp_path: Path) -> None:
    broken = tmp_path / "kubeconfig"
    broken.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n")
    settings = Settings(home=tmp_path, database_url=None, kubeconfig=broken)
    Store.open(settings).close()
    actor = KubeWatchActor(settings)
    stats = actor.stop()
    assert stats["running"] is False and "cannot load the kubeconfig" in stats["error"]
