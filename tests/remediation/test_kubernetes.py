"""Kubernetes actions against a real kube-apiserver and kube-controller-manager, with the test-side
kubelet reporting pods from their specs: a rollback or a new memory limit really changes what the
cluster reports, and the validation sees it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from recoverops.incidents import IncidentStatus, Source
from recoverops.remediation.clients import Clients
from recoverops.remediation.engine import Engine
from recoverops.remediation.kinds import KINDS
from recoverops.remediation.model import ActionRecord, ActionSpec, ActionStatus
from recoverops.remediation.policy import parse_policy
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

AUTO = "version: 1\ndefault: auto\n"
IMAGE = "registry.example/shop/web"
MI = 2**20


@pytest.fixture
def settings(tmp_path: Path, kube_cluster: KubeCluster) -> Settings:
    return Settings(home=tmp_path / "home", database_url=None, kubeconfig=kube_cluster.kubeconfig)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = Store.open(settings)
    yield opened
    opened.close()


@pytest.fixture
def engine(settings: Settings, store: Store) -> Iterator[Engine]:
    clients = Clients(settings)
    policy = parse_policy(AUTO, source="policy.yaml", known_kinds=KINDS)
    yield Engine(store, policy=policy, clients=clients, actor="remediator:kubernetes", poll_s=0.2)
    clients.close()


@pytest.fixture
def apps(kube_api: Any) -> Any:
    return client.AppsV1Api(kube_api)


@pytest.fixture
def core(kube_api: Any) -> Any:
    return client.CoreV1Api(kube_api)


def healthy(apps: Any, namespace: str, name: str, replicas: int) -> bool:
    d = apps.read_namespaced_deployment(name, namespace)
    s = d.status
    return bool(
        (s.observed_generation or 0) >= d.metadata.generation
        and s.updated_replicas == replicas
        and s.available_replicas == replicas
        and s.replicas == replicas
    )


def troubled_pods(core: Any, namespace: str, reason: str) -> list[str]:
    pods = core.list_namespaced_pod(namespace).items
    found = []
    for pod in pods:
        for status in pod.status.container_statuses or []:
            states = (status.state, status.last_state)
            reasons = {
                (s.waiting and s.waiting.reason) or (s.terminated and s.terminated.reason)
                for s in states
                if s is not None
            }
            if reason in reasons:
                found.append(pod.metadata.name)
    return found


def start(apps: Any, namespace: str, name: str, **kwargs: Any) -> None:
    apps.create_namespaced_deployment(namespace, deployment(name, **kwargs))
    replicas = kwargs.get("replicas", 2)
    wait_until(lambda: healthy(apps, namespace, name, replicas), what=f"{name} to come up")


def carry_out(
    engine: Engine,
    kind: str,
    params: dict[str, Any],
    *,
    within: float = 60,
    incident_id: int | None = None,
) -> ActionRecord:
    spec = ActionSpec(kind=kind, params=params, validate_within=within, incident_id=incident_id)
    action, _ = engine.plan(spec, key=uuid.uuid4().hex)
    done = engine.run(action.id)
    assert done is not None
    return done


def image_of(apps: Any, namespace: str, name: str) -> str:
    image: str = (
        apps.read_namespaced_deployment(name, namespace).spec.template.spec.containers[0].image
    )
    return image


def test_a_bad_image_is_rolled_back_to_the_previous_revision(
    engine: Engine, apps: Any, core: Any, kube_namespace: str, kubelet: Kubelet
) -> None:
    kubelet.rules.allowed_tags[IMAGE] = {"1.0"}
    start(apps, kube_namespace, "web", image=f"{IMAGE}:1.0")
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": f"{IMAGE}:1.1"}]}}}
    }
    apps.patch_namespaced_deployment("web", kube_namespace, patch)
    wait_until(
        lambda: troubled_pods(core, kube_namespace, "ImagePullBackOff"), what="ImagePullBackOff"
    )

    done = carry_out(engine, "k8s.rollback", {"namespace": kube_namespace, "deployment": "web"})
    assert done.status is ActionStatus.SUCCEEDED, done.result
    assert done.result["health"] == f"{kube_namespace}/web: 2/2 replicas available"
    assert image_of(apps, kube_namespace, "web") == f"{IMAGE}:1.0"
    assert done.snapshot is not None and done.snapshot["state"]["revision"] == 2
    wait_until(
        lambda: not troubled_pods(core, kube_namespace, "ImagePullBackOff"),
        what="the bad pods to go",
    )

    # Its inverse puts the bad revision back, and the cluster reports the bad image again.
    undone = engine.rollback(done.id, operator="alice")
    assert undone.status is ActionStatus.ROLLED_BACK
    assert image_of(apps, kube_namespace, "web") == f"{IMAGE}:1.1"
    wait_until(
        lambda: troubled_pods(core, kube_namespace, "ImagePullBackOff"),
        what="ImagePullBackOff again",
    )


def test_an_oom_killed_workload_recovers_with_a_higher_memory_limit(
    engine: Engine, apps: Any, core: Any, kube_namespace: str, kubelet: Kubelet
) -> None:
    kubelet.rules.memory_need["app"] = 200 * MI
    apps.create_namespaced_deployment(
        kube_namespace, deployment("api", image=f"{IMAGE}:1.0", memory_limit="128Mi")
    )
    wait_until(lambda: troubled_pods(core, kube_namespace, "OOMKilled"), what="OOMKilled")
    params = {
        "namespace": kube_namespace,
        "deployment": "api",
        "container": "app",
        "limits": {"memory": "256Mi"},
    }
    done = carry_out(engine, "k8s.set_resources", params)
    assert done.status is ActionStatus.SUCCEEDED, done.result
    resources = (
        apps.read_namespaced_deployment("api", kube_namespace)
        .spec.template.spec.containers[0]
        .resources
    )
    assert resources.limits == {"memory": "256Mi"}
    calls = [e.detail["operation"] for e in engine.actions.trail(done.id) if e.verb == "api.call"]
    assert f"PATCH /apis/apps/v1/namespaces/{kube_namespace}/deployments/api" in calls


def test_a_limit_that_is_still_too_low_fails_validation_and_is_rolled_back(
    engine: Engine, store: Store, apps: Any, core: Any, kube_namespace: str, kubelet: Kubelet
) -> None:
    kubelet.rules.memory_need["app"] = 200 * MI
    apps.create_namespaced_deployment(
        kube_namespace, deployment("api", image=f"{IMAGE}:1.0", memory_limit="128Mi")
    )
    wait_until(lambda: troubled_pods(core, kube_namespace, "OOMKilled"), what="OOMKilled")
    upsert = store.upsert_incident(
        f"fp-{uuid.uuid4().hex}",
        target=f"{kube_namespace}/api",
        category=Category.INFRA_CONTAINER,
        source=Source.KUBERNETES,
    )
    store.move_incident(upsert.incident.id, IncidentStatus.ANALYZED)
    params = {
        "namespace": kube_namespace,
        "deployment": "api",
        "container": "app",
        "limits": {"memory": "160Mi"},
    }
    done = carry_out(engine, "k8s.set_resources", params, within=6, incident_id=upsert.incident.id)
    assert done.status is ActionStatus.ROLLED_BACK
    assert (
        "not healthy by the deadline" in done.result["error"]
        and "OOMKilled" in done.result["error"]
    )
    resources = (
        apps.read_namespaced_deployment("api", kube_namespace)
        .spec.template.spec.containers[0]
        .resources
    )
    assert resources.limits == {"memory": "128Mi"}
    incident = store.get_incident(upsert.incident.id)
    assert incident is not None and incident.status is IncidentStatus.ESCALATED


def test_scale_and_its_inverse(
    engine: Engine, apps: Any, kube_namespace: str, kubelet: Kubelet
) -> None:
    start(apps, kube_namespace, "worker", image=f"{IMAGE}:1.0", replicas=1)
    done = carry_out(
        engine, "k8s.scale", {"namespace": kube_namespace, "deployment": "worker", "replicas": 3}
    )
    assert done.status is ActionStatus.SUCCEEDED, done.result
    assert healthy(apps, kube_namespace, "worker", 3)
    assert engine.rollback(done.id, operator="alice").status is ActionStatus.ROLLED_BACK
    assert apps.read_namespaced_deployment_scale("worker", kube_namespace).spec.replicas == 1


def test_rollout_restart_replaces_every_pod(
    engine: Engine, apps: Any, core: Any, kube_namespace: str, kubelet: Kubelet
) -> None:
    start(apps, kube_namespace, "web", image=f"{IMAGE}:1.0")
    before = {p.metadata.name for p in core.list_namespaced_pod(kube_namespace).items}
    done = carry_out(
        engine, "k8s.rollout_restart", {"namespace": kube_namespace, "deployment": "web"}
    )
    assert done.status is ActionStatus.SUCCEEDED, done.result
    wait_until(
        lambda: (
            not before & {p.metadata.name for p in core.list_namespaced_pod(kube_namespace).items}
        ),
        what="the old pods to go",
    )


def test_a_stuck_pod_is_deleted_and_replaced(
    engine: Engine, apps: Any, core: Any, kube_namespace: str, kubelet: Kubelet
) -> None:
    start(apps, kube_namespace, "web", image=f"{IMAGE}:1.0")
    victim = core.list_namespaced_pod(kube_namespace).items[0]
    done = carry_out(
        engine, "k8s.delete_pod", {"namespace": kube_namespace, "pod": victim.metadata.name}
    )
    assert done.status is ActionStatus.SUCCEEDED, done.result
    names = {p.metadata.name for p in core.list_namespaced_pod(kube_namespace).items}
    assert victim.metadata.name not in names and len(names) == 2


def test_cordon_a_not_ready_node_and_uncordon_it_back(engine: Engine, core: Any) -> None:
    name = f"node-{uuid.uuid4().hex[:8]}"
    core.create_node({"metadata": {"name": name}})
    core.patch_node_status(
        name,
        {
            "status": {
                "conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]
            }
        },
    )
    try:
        done = carry_out(engine, "k8s.cordon_node", {"node": name})
        assert done.status is ActionStatus.SUCCEEDED, done.result
        assert core.read_node(name).spec.unschedulable is True
        assert engine.rollback(done.id, operator="alice").status is ActionStatus.ROLLED_BACK
        assert not core.read_node(name).spec.unschedulable
    finally:
        core.delete_node(name)


KILLED_REMEDIATOR = textwrap.dedent(
    """
    import os, signal, sys
    from recoverops.remediation.clients import Clients
    from recoverops.remediation.engine import Engine
    from recoverops.remediation.kinds import KINDS
    from recoverops.remediation.policy import parse_policy
    from recoverops.settings import Settings
    from recoverops.store import Store

    settings = Settings(home=sys.argv[1], database_url=None, kubeconfig=sys.argv[2])
    store = Store.open(settings)

    def die(point, action_id):
        if point == "applied":  # the change is made; its record is not
            os.kill(os.getpid(), signal.SIGKILL)

    engine = Engine(
        store, policy=parse_policy("version: 1\\ndefault: auto\\n", source="p", known_kinds=KINDS),
        clients=Clients(settings), actor="remediator:doomed", lease_s=1.0, checkpoint=die,
    )
    engine.run(int(sys.argv[3]))
    """
)


def test_a_remediator_killed_between_apply_and_validate_is_resumed_without_a_second_apply(
    settings: Settings, engine: Engine, apps: Any, core: Any, kube_namespace: str, kubelet: Kubelet
) -> None:
    kubelet.rules.memory_need["app"] = 200 * MI
    apps.create_namespaced_deployment(
        kube_namespace, deployment("api", image=f"{IMAGE}:1.0", memory_limit="128Mi")
    )
    wait_until(lambda: troubled_pods(core, kube_namespace, "OOMKilled"), what="OOMKilled")
    generation = apps.read_namespaced_deployment("api", kube_namespace).metadata.generation
    params = {
        "namespace": kube_namespace,
        "deployment": "api",
        "container": "app",
        "limits": {"memory": "256Mi"},
    }
    action, _ = engine.plan(
        ActionSpec(kind="k8s.set_resources", params=params, validate_within=60), key="killed"
    )
    died = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_REMEDIATOR,
            str(settings.home),
            str(settings.kubeconfig),
            str(action.id),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert died.returncode == -9, died.stderr
    stuck = engine.actions.get(action.id)
    assert stuck is not None and stuck.status is ActionStatus.APPLYING
    done = wait_until(
        lambda: engine.run(action.id),
        what="the lease of the dead remediator to run out",
        timeout=30,
    )
    assert done.status is ActionStatus.SUCCEEDED, done.result
    assert done.result["resumed"] is True
    # One apply: the pod template changed once.
    assert (
        apps.read_namespaced_deployment("api", kube_namespace).metadata.generation == generation + 1
    )
    verbs = [e.verb for e in engine.actions.trail(action.id)]
    assert verbs.count("action.applied") == 0 and "action.resumed" in verbs
