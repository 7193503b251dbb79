"""The RBAC of cluster/kubernetes/base/rbac.yaml is exactly what RecoverOps' Kubernetes calls
need: every kind of recoverops/remediation/kinds/kubernetes.py, and the watch source of
recoverops/sources/kubernetes.py, run as the rendered ServiceAccount against the real API server
with no call refused, and every right the rendered roles grant is used by some call of theirs. A
right the code stops using, or a call it starts making without its right, fails here."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from recoverops.queue import OutboxQueue
from recoverops.remediation.clients import Call, Clients, recording
from recoverops.remediation.kind import ActionContext
from recoverops.remediation.kinds import KINDS
from recoverops.settings import Settings
from recoverops.sources.kubernetes import KubeWatcher, WatchConfig
from recoverops.sources.sink import StoredSink
from recoverops.store import Store
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
REMEDIATOR_ROLES = ("recoverops-remediator", "recoverops-remediator-nodes")
WATCHER_ROLES = ("recoverops-watcher",)


def right(call: Call, *, watch: bool = False) -> Right:
    """The RBAC right a client call needs: "GET /apis/apps/v1/namespaces/n/deployments/w/scale"
    → ("namespace", "apps", "deployments/scale", "get"); a GET with `watch` set is a watch."""
    method, path = call.operation.split(" ", 1)
    match = _PATH.match(path)
    assert match, f"not a resource path: {path}"
    resource = match["resource"] + (f"/{match['sub']}" if match["sub"] else "")
    verb = _VERBS.get(method) or ("get" if match["name"] else "watch" if watch else "list")
    scope = "namespace" if match["namespace"] else "cluster"
    return scope, match["group"] or "", resource, verb


def granted(docs: list[dict[str, Any]], roles_named: tuple[str, ...]) -> set[Right]:
    """The rights these rendered roles grant: a ClusterRole bound by RoleBindings grants in a
    namespace, one bound by a ClusterRoleBinding across the cluster."""
    roles = {role["metadata"]["name"]: role for role in of_kind(docs, "ClusterRole")}
    assert set(roles) == {*REMEDIATOR_ROLES, *WATCHER_ROLES}, "a role no test covers"
    scopes = {"RoleBinding": "namespace", "ClusterRoleBinding": "cluster"}
    rights: set[Right] = set()
    for kind, scope in scopes.items():
        for binding in of_kind(docs, kind):
            if binding["roleRef"]["name"] not in roles_named:
                continue
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
    rights = granted(rendered, REMEDIATOR_ROLES)
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
        # A namespace it is not bound in: no change, and no read but the watcher's.
        lambda: apps.list_namespaced_deployment("default"),
        lambda: core.delete_namespaced_pod("any", "kube-system"),
        lambda: apps.read_namespaced_deployment("any", "kube-system"),
    ]
    try:
        for attempt in forbidden:
            with pytest.raises(ApiException) as refused:
                attempt()
            assert refused.value.status == 403
    finally:
        api.close()


class RecordedRequests:
    """Every request an ApiClient sends, as a Call with its status, and whether it watched."""

    def __init__(self, api: Any) -> None:
        self.calls: list[tuple[Call, bool]] = []
        self._lock = threading.Lock()
        sent = api.rest_client.request
        host = api.configuration.host

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            query = dict(kwargs.get("query_params") or [])
            operation = f"{method} {url.removeprefix(host).split('?', 1)[0]}"
            watch = str(query.get("watch", "")).lower() == "true" or "watch=true" in url
            status: int | None = None
            try:
                response = sent(method, url, *args, **kwargs)
                status = response.status
                return response
            except ApiException as error:
                status = error.status
                raise
            finally:
                with self._lock:
                    call = Call("kubernetes", operation, status, duration_ms=0.0)
                    self.calls.append((call, watch))

        api.rest_client.request = request


def test_the_watcher_runs_as_the_service_account_using_every_right_granted(
    kube_api: Any,
    kube_namespace: str,
    kubelet: Kubelet,
    remediator_kubeconfig: Path,
    rendered: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    """Every stream watched across the cluster; a crash-looping Deployment (its pod's log and
    ReplicaSet read), a Job whose pod cannot pull (the Job read), a Warning event about a pod
    the watcher has not seen fail (the pod read)."""
    kubelet.rules.memory_need["crashing"] = 512 * 2**20
    kubelet.rules.allowed_tags[JOB_IMAGE.rpartition(":")[0]] = {"1.0"}
    api = config.new_client_from_config(config_file=str(remediator_kubeconfig))
    recorded = RecordedRequests(api)
    store = Store.open(Settings(home=tmp_path / "home", database_url=None))
    watch_all = WatchConfig(namespace=None, watch_seconds=1, save_every=0)
    sink = StoredSink(store, OutboxQueue(store, name="events"))
    watcher = KubeWatcher(api, store=store, sink=sink, config=watch_all)
    apps, batch = client.AppsV1Api(kube_api), client.BatchV1Api(kube_api)
    core = client.CoreV1Api(kube_api)
    try:
        watcher.start()
        apps.create_namespaced_deployment(
            kube_namespace,
            deployment("crashing", container="crashing", image=IMAGE, memory_limit="64Mi"),
        )
        batch.create_namespaced_job(kube_namespace, failing_job("migrate"))
        wait_until(lambda: watcher.stored >= 2, what="the crash and the Job's pull to be stored")
        # A pod running well, so the watcher has not read it yet, then reported unhealthy.
        apps.create_namespaced_deployment(
            kube_namespace, deployment("probed", container="probed", image=IMAGE)
        )
        [pod] = wait_until(
            lambda: core.list_namespaced_pod(kube_namespace, label_selector="app=probed").items[:1],
            what="the probed pod",
        )
        core.create_namespaced_event(kube_namespace, unhealthy(pod.metadata.name, kube_namespace))
        wait_until(lambda: watcher.stored >= 3, what="the event to be stored")
        wait_until(
            lambda: (
                {"pods", "events", "jobs", "nodes"}
                <= {path_resource(call) for call, watched in recorded.calls if watched}
            ),
            what="every stream to watch",
        )
    finally:
        watcher.stop()
        store.close()
        api.close()
    refused = [call for call, _ in recorded.calls if call.status in (401, 403)]
    assert not refused, refused
    # The watcher's roles are bound cluster-wide: a namespaced call uses the cluster's right.
    used = {("cluster", *right(call, watch=watched)[1:]) for call, watched in recorded.calls}
    rights = granted(rendered, WATCHER_ROLES)
    assert used <= rights, f"calls without a right: {sorted(used - rights)}"
    assert rights <= used, f"rights no call uses: {sorted(rights - used)}"


JOB_IMAGE = "registry.example/shop/migrate:9.9"


def unhealthy(pod: str, namespace: str) -> dict[str, Any]:
    """A failing readiness probe's Warning event, as a kubelet reports it (there is none here)."""
    now = datetime.now(UTC).isoformat()
    return {
        "metadata": {"generateName": f"{pod}."},
        "involvedObject": {"kind": "Pod", "name": pod, "namespace": namespace},
        "reason": "Unhealthy",
        "message": "Readiness probe failed: HTTP probe failed with statuscode: 503",
        "type": "Warning",
        "source": {"component": "kubelet"},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }


def path_resource(call: Call) -> str:
    match = _PATH.match(call.operation.split(" ", 1)[1])
    return match["resource"] if match else ""


def failing_job(name: str) -> dict[str, Any]:
    """A Job whose pod cannot pull its image (the test-side kubelet's rule), with no retries."""
    return {
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": name, "image": JOB_IMAGE}],
                },
            },
        },
    }
