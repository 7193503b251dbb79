"""The Kubernetes source in the pipeline on real Ray: the supervisor starts it when the settings
name a kubeconfig, and a Deployment whose pods are OOMKilled becomes one analyzed incident of the
Deployment, its position in the supervisor's status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import ray
from kubernetes import client

from recoverops.actors import DetectorConfig, PoolConfig, start_supervisor
from recoverops.incidents import IncidentStatus
from recoverops.settings import Settings
from recoverops.store import Store
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

__all__ = ["kube_api", "kube_cluster", "kube_namespace", "kubelet"]

pytestmark = pytest.mark.usefixtures("ray_session")


def test_a_crash_looping_deployment_becomes_one_analyzed_incident(
    tmp_path: Path, kube_cluster: KubeCluster, kube_api: Any, kube_namespace: str, kubelet: Kubelet
) -> None:
    settings = Settings(home=tmp_path, database_url=None, kubeconfig=kube_cluster.kubeconfig)
    config = PoolConfig(
        detectors=1,
        detector=DetectorConfig(idle_wait=0.05),
        systems=(),
        watchers=("kubernetes",),
        check_interval=0.5,
    )
    supervisor, _ = start_supervisor(settings, config=config)
    store = Store.open(settings, migrate=False)
    target = f"kubernetes:{kube_namespace}/Deployment/web"
    try:
        kubelet.rules.memory_need["app"] = 2**30
        manifest = deployment("web", image="shop/web:1", replicas=3, memory_limit="64Mi")
        client.AppsV1Api(kube_api).create_namespaced_deployment(kube_namespace, manifest)

        def incident() -> Any:
            found = store.list_incidents(target=target).items
            return found if found and found[0].status is IncidentStatus.ANALYZED else None

        [analyzed] = wait_until(incident, what="the analyzed incident", timeout=120)
        assert analyzed.category is Category.INFRA_CONTAINER and analyzed.occurrences == 1
        status = ray.get(supervisor.status.remote(), timeout=30)
        pods = status["sources"]["kubernetes"]["streams"]["pods"]
        assert pods["position"] is not None and pods["errors"] == 0
        assert status["sources"]["kubernetes"]["suppressed"] >= 2  # the other two pods
    finally:
        store.close()
        ray.get(supervisor.stop.remote(), timeout=60)
        ray.kill(supervisor, no_restart=True)
