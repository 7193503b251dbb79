"""The remediator's RBAC (cluster/kubernetes/base/rbac.yaml) is exactly what its Kubernetes
actions need: every kind of recoverops/remediation/kinds/kubernetes.py runs as the rendered
ServiceAccount against the real API server with no call refused, and every right the rendered
roles grant is used by some call. A right the code stops using, or a call it starts making
without its right, fails here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from recoverops.remediation.clients import Call, Clients, recording
from recoverops.remediation.kind import ActionContext
from recoverops.remediation.kinds import KINDS
from recoverops.settings import Settings
from tests.cluster.manifests import as_yaml, documents, of_kind, run_kubectl
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

NAMESPACE = "recoverops"  # where the overlays put the ServiceAccount
ACCOUNT = "recoverops"
IMAGE = "registry.example/shop/web:1.0"

# A right: (scope, API group, resource, verb); scope "namespace" for a namespaced request,
# "cluster" for one across all namespaces or on a cluster-scoped resource.
Right = tuple[str, str, str, str]

_PATH = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[^/]+)/[^/]+)"
    r"(?:/namespaces/(?P<namespace>[^/]+))?/(?P<resource>[^/]+)(?:/(?P<name>[^/]+))?"
    r"(?:/(?P<sub>[^/]+))?$"
)
_VERBS = {"PATCH": "patch", "DELETE": "delete", "POST": "create", "PUT": "update"}


def right(call: Call) -> Right:
    """The RBAC right a client call needs: "GET /apis/apps/v1/namespaces/n/deployments/w/scale"
    → ("namespace", "apps", "deployments/scale", "get")."""
    method, path = call.operation.split(" ", 1)
    match = _PATH.match(path)
    assert match, f"not a resource path: {path}"
    resource = match["resource"] + (f"/{match['sub']}" if match["sub"] else "")
    verb = _VERBS.get(method) or ("get" if match["name"] else "list")
    scope = "namespace" if match["namespace"] else "cluster"
    return scope, match["group"] or "", resource, verb


def granted(docs: list[dict[str, Any]]) -> set[Right]:
    """The rights the rendered roles grant: a ClusterRole bound by RoleBindings grants in a
    namespace, one bound by a ClusterRoleBinding across the cluster."""
    roles = {role["metadata"]["name"]: role for role in of_kind(docs, "ClusterRole")}
    scopes = {"RoleBinding": "namespace", "ClusterRoleBinding": "cluster"}
    rights: set[Right] = set()
    for kind, scope in scopes.items():
        for binding in of_kind(docs, kind):
            for rule in roles[binding["roleRef"]["name"]]["rules"]:
                rights |= {
                    (scope, group, resource, verb)
                    for group in rule["apiGroups"]
                    for resource in rule["resources"]
                    for verb in rule["verbs"]
                }
    return rights


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    return documents("dev")


@pytest.fixture(scope="module")
def remediator_kubeconfig(
    kube_cluster: KubeCluster, rendered: list[dict[str, Any]], tmp_path_factory: Any
) -> Path:
    """The rendered ServiceAccount, roles and cluster binding, applied for real; a kubeconfig
    holding a token of that ServiceAccount (TokenRequest, as a projected Pod token is)."""
    identity = [
        doc
        for doc in rendered
        if doc["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding")
        or (doc["kind"] == "Namespace" and doc["metadata"]["name"] == NAMESPACE)
    ]
    done = run_kubectl(kube_cluster.kubeconfig, "apply", "-f", "-", stdin=as_yaml(identity))
    assert done.returncode == 0, done.stderr
    admin = kube_cluster.api_client()
    try:
        answer = client.CoreV1Api(admin).create_namespaced_service_account_token(
            ACCOUNT, NAMESPACE, {"spec": {"expirationSeconds": 3600}}
        )
    finally:
        admin.close()
    path: Path = tmp_path_factory.mktemp("remediator") / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: test\n  cluster:\n    server: {kube_cluster.server}\n"
        f"    certificate-authority: {kube_cluster.ca}\n"
        f"users:\n- name: remediator\n  user:\n    token: {answer.status.token}\n"
        "contexts:\n- name: test\n  context:\n    cluster: test\n    user: remediator\n"
        "current-context: test\n"
    )
    return path


@pytest.fixture
def bound_namespace(kube_api: Any, kube_namespace: str, rendered: list[dict[str, Any]]) -> str:
    """A test namespace bound as the overlays bind the remediator's target namespaces."""
    (binding,) = of_kind(rendered, "RoleBinding")
    body = {**binding, "metadata": {**binding["metadata"], "namespace": kube_namespace}}
    client.RbacAuthorizationV1Api(kube_api).create_namespaced_role_binding(kube_namespace, body)
    return kube_namespace


@pytest.fixture
def as_remediator(remediator_kubeconfig: Path, tmp_path: Path) -> Iterator[ActionContext]:
    settings = Settings(home=tmp_path / "home", database_url=None, kubeconfig=remediator_kubeconfig)
    clients = Clients(settings)
    yield ActionContext(clients=clients)
    clients.close()


def names(listing: Any) -> set[str]:
    return {item.metadata.name for item in listing.items}


def settled(apps: Any, namespace: str, name: str) -> bool:
    found = apps.read_namespaced_deployment(name, namespace)
    return bool((found.status.observed_generation or 0) >= found.metadata.generation)


def carry_out(
    ctx: ActionContext, kind_name: str, values: dict[str, Any], *, settle: Any = None
) -> None:
    """snapshot, apply and one check of a kind, as the engine calls them; `settle` waits for
    the cluster to act on the change before the check."""
    kind = KINDS[kind_name]
    params = kind.params.model_validate(values)
    snapshot = kind.snapshot(ctx, params)
    applied = kind.apply(ctx, params, key=uuid.uuid4().hex)
    if settle is not None:
        settle()
    kind.check(ctx, params, snapshot, applied)


def test_every_kubernetes_kind_runs_as_the_remediator_using_every_right_granted(
    kube_api: Any,
    bound_namespace: str,
    kubelet: Kubelet,
    as_remediator: ActionContext,
    rendered: list[dict[str, Any]],
) -> None:
    namespace = bound_namespace
    apps, core = client.AppsV1Api(kube_api), client.CoreV1Api(kube_api)
    apps.create_namespaced_deployment(namespace, deployment("web", image=IMAGE))
    wait_until(
        lambda: (apps.read_namespaced_deployment("web", namespace).status.available_replicas) == 2,
        what="web to come up",
    )
    node = f"node-{uuid.uuid4().hex[:8]}"
    core.create_node({"metadata": {"name": node}})
    target: dict[str, Any] = {"namespace": namespace, "deployment": "web"}
    calls: list[Call] = []
    try:
        with recording(calls.append):
            steps: list[tuple[str, dict[str, Any]]] = [
                ("k8s.rollout_restart", target),
                ("k8s.scale", {**target, "replicas": 3}),
                ("k8s.set_resources", {**target, "container": "app", "limits": {"memory": "1Gi"}}),
                ("k8s.rollback", target),
            ]
            for kind_name, values in steps:
                # Seen by the controller, so the check goes on to the pods of the new revision.
                carry_out(
                    as_remediator,
                    kind_name,
                    values,
                    settle=lambda: wait_until(
                        lambda: settled(apps, namespace, "web"), what="the change seen"
                    ),
                )
            pod = core.list_namespaced_pod(namespace).items[0].metadata.name
            carry_out(
                as_remediator,
                "k8s.delete_pod",
                {"namespace": namespace, "pod": pod},
                # Gone, so the check goes on to ask the pod's ReplicaSet about its replacement.
                settle=lambda: wait_until(
                    lambda: pod not in names(core.list_namespaced_pod(namespace)),
                    what=f"{pod} to go",
                ),
            )
            carry_out(as_remediator, "k8s.cordon_node", {"node": node})
            carry_out(as_remediator, "k8s.uncordon_node", {"node": node})
    finally:
        core.delete_node(node)
    # Authorization comes before the lookup: a 404 (the deleted pod, read again) was allowed.
    refused = [call for call in calls if call.status is None or call.status in (401, 403)]
    assert not refused, refused
    assert all(call.status in (200, 201, 404) for call in calls), calls
    used = {right(call) for call in calls}
    rights = granted(rendered)
    assert used <= rights, f"calls without a right: {sorted(used - rights)}"
    assert rights <= used, f"rights no call uses: {sorted(rights - used)}"


def test_the_remediator_may_do_nothing_else(
    bound_namespace: str, remediator_kubeconfig: Path
) -> None:
    api = config.new_client_from_config(config_file=str(remediator_kubeconfig))
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    forbidden: list[Callable[[], Any]] = [
        lambda: apps.delete_namespaced_deployment("web", bound_namespace),
        lambda: apps.create_namespaced_deployment(bound_namespace, deployment("new", image=IMAGE)),
        lambda: core.list_namespaced_secret(bound_namespace),
        lambda: core.list_namespaced_config_map(bound_namespace),
        lambda: core.delete_node("any-node"),
        # A namespace it is not bound in: not even a read.
        lambda: apps.list_namespaced_deployment("default"),
        lambda: core.read_namespaced_pod("any", "kube-system"),
    ]
    try:
        for attempt in forbidden:
            with pytest.raises(ApiException) as refused:
                attempt()
            assert refused.value.status == 403
    finally:
        api.close()
