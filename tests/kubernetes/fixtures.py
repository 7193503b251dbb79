"""Pytest fixtures over the real control plane (`cluster.py`) and the test-side kubelet
(`kubelet.py`). A test folder that needs Kubernetes imports them in its conftest.py:

    from tests.kubernetes.fixtures import kube_cluster, kube_namespace, kubelet

`kube_cluster` is started once per session (the binaries are built by the first session on a
machine and cached); each test gets its own namespace, deleted afterwards, and a kubelet for it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from tests.kubernetes.cluster import ClusterError, KubeCluster
from tests.kubernetes.kubelet import Kubelet, Rules

T = TypeVar("T")


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeCluster]:
    try:
        cluster = KubeCluster.start(tmp_path_factory.mktemp("kube"))
    except ClusterError as error:
        pytest.fail(f"the test Kubernetes control plane did not start: {error}", pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture
def kube_api(kube_cluster: KubeCluster) -> Iterator[Any]:
    api = kube_cluster.api_client()
    yield api
    api.close()


@pytest.fixture
def kube_namespace(kube_api: Any) -> Iterator[str]:
    from kubernetes import client

    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(kube_api)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


@pytest.fixture
def kubelet(kube_api: Any, kube_namespace: str) -> Iterator[Kubelet]:
    running = Kubelet(kube_api, namespaces=[kube_namespace], rules=Rules()).start()
    yield running
    running.stop()


def deployment(
    name: str,
    *,
    image: str,
    replicas: int = 2,
    container: str = "app",
    memory_limit: str | None = None,
) -> dict[str, Any]:
    """A Deployment manifest of one container."""
    resources = {"limits": {"memory": memory_limit}} if memory_limit else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [{"name": container, "image": image, "resources": resources}]
                },
            },
        },
    }


def wait_until(check: Callable[[], T | None], *, what: str, timeout: float = 60.0) -> T:
    """Poll `check` until it answers something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.1)  # the poll interval, not a synchronisation
