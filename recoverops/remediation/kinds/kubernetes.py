"""Kubernetes: rollout restart, scale, set resource limits, roll back to the previous revision,
delete a stuck pod, cordon (and uncordon) a node.

A workload is healthy when its controller has seen the latest spec, every desired replica is
updated and available, and none of its current pods is in a waiting or terminated state that
means trouble (CrashLoopBackOff, ImagePullBackOff, OOMKilled, …); the validation reports those
pods by name. A rollout whose progress deadline passed fails at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field, field_validator

from recoverops.remediation.kind import ActionContext, ActionParams
from recoverops.remediation.model import Health, Inverse, Risk, Snapshot, System

_DNS_NAME = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$")
REVISION = "deployment.kubernetes.io/revision"
TROUBLE = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "OOMKilled",
    }
)


def _apis(ctx: ActionContext) -> tuple[Any, Any]:
    from kubernetes import client

    api = ctx.clients.kubernetes()
    return client.AppsV1Api(api), client.CoreV1Api(api)


class DeploymentParams(ActionParams):
    namespace: str = Field(pattern=_DNS_NAME)
    deployment: str = Field(pattern=_DNS_NAME)

    def target(self) -> str:
        return f"k8s:{self.namespace}/deployment/{self.deployment}"


def pod_troubles(pod: Any) -> list[str]:
    """Why a pod is unwell, from its containers' states: ['app: ImagePullBackOff', …]."""
    found = []
    for status in (pod.status.container_statuses or []) if pod.status else []:
        for state in (status.state, status.last_state):
            if state is None:
                continue
            reason = (state.waiting and state.waiting.reason) or (
                state.terminated and state.terminated.reason
            )
            if reason in TROUBLE and (state is status.state or reason == "OOMKilled"):
                found.append(f"{status.name}: {reason}")
    return found


def deployment_health(ctx: ActionContext, params: DeploymentParams) -> Health:
    apps, core = _apis(ctx)
    deployment = apps.read_namespaced_deployment(params.deployment, params.namespace)
    name = f"{params.namespace}/{params.deployment}"
    status = deployment.status
    for condition in status.conditions or []:
        if condition.type == "Progressing" and condition.reason == "ProgressDeadlineExceeded":
            return Health.failed(f"{name}: rollout stuck ({condition.message})")
    desired = deployment.spec.replicas if deployment.spec.replicas is not None else 1
    if (status.observed_generation or 0) < (deployment.metadata.generation or 0):
        return Health.waiting(f"{name}: the controller has not seen the new spec yet")
    updated, available = status.updated_replicas or 0, status.available_replicas or 0
    total = status.replicas or 0
    current = _current_replicaset(apps, deployment)
    troubles: list[str] = []
    if current is not None:
        template_hash = (current.metadata.labels or {}).get("pod-template-hash")
        pods = core.list_namespaced_pod(
            params.namespace, label_selector=f"pod-template-hash={template_hash}"
        ).items
        troubles = [f"{p.metadata.name} {t}" for p in pods for t in pod_troubles(p)]
    if updated == desired and available == desired and total == desired and not troubles:
        return Health.healthy(f"{name}: {available}/{desired} replicas available")
    detail = f"{name}: {updated} updated, {available} available of {desired}"
    return Health.waiting(f"{detail}; {', '.join(troubles)}" if troubles else detail)


def _replicasets(apps: Any, deployment: Any) -> list[Any]:
    owned = apps.list_namespaced_replica_set(deployment.metadata.namespace).items
    uid = deployment.metadata.uid
    return [
        rs for rs in owned if any(ref.uid == uid for ref in (rs.metadata.owner_references or []))
    ]


def _revision(obj: Any) -> int:
    return int((obj.metadata.annotations or {}).get(REVISION, "0"))


def _current_replicaset(apps: Any, deployment: Any) -> Any | None:
    revision = _revision(deployment)
    for rs in _replicasets(apps, deployment):
        if _revision(rs) == revision:
            return rs
    return None


class RolloutRestart:
    kind: ClassVar[str] = "k8s.rollout_restart"
    system: ClassVar[System] = System.KUBERNETES
    risk: ClassVar[Risk] = Risk.LOW
    params: ClassVar[type[ActionParams]] = DeploymentParams
    validate_within: ClassVar[float] = 300.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: DeploymentParams) -> Snapshot:
        apps, _core = _apis(ctx)
        deployment = apps.read_namespaced_deployment(params.deployment, params.namespace)
        # Restarting has nothing to undo: the pods come back from the same template.
        return Snapshot({"revision": _revision(deployment)}, inverse=None)

    def apply(self, ctx: ActionContext, params: DeploymentParams, *, key: str) -> Mapping[str, Any]:
        apps, _core = _apis(ctx)
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        annotations = {"kubectl.kubernetes.io/restartedAt": at, "recoverops.io/action": key[:63]}
        body = {"spec": {"template": {"metadata": {"annotations": annotations}}}}
        apps.patch_namespaced_deployment(params.deployment, params.namespace, body)
        return {"restarted_at": at}

    def check(
        self,
        ctx: ActionContext,
        params: DeploymentParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        return deployment_health(ctx, params)


class ScaleParams(DeploymentParams):
    replicas: int = Field(ge=0, le=1000)


class Scale:
    kind: ClassVar[str] = "k8s.scale"
    system: ClassVar[System] = System.KUBERNETES
    risk: ClassVar[Risk] = Risk.MEDIUM
    params: ClassVar[type[ActionParams]] = ScaleParams
    validate_within: ClassVar[float] = 300.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: ScaleParams) -> Snapshot:
        apps, _core = _apis(ctx)
        scale = apps.read_namespaced_deployment_scale(params.deployment, params.namespace)
        before = scale.spec.replicas
        inverse = Inverse(
            self.kind,
            {"namespace": params.namespace, "deployment": params.deployment, "replicas": before},
        )
        return Snapshot({"replicas": before}, inverse)

    def apply(self, ctx: ActionContext, params: ScaleParams, *, key: str) -> Mapping[str, Any]:
        apps, _core = _apis(ctx)
        body = {"spec": {"replicas": params.replicas}}
        scale = apps.patch_namespaced_deployment_scale(params.deployment, params.namespace, body)
        return {"replicas": scale.spec.replicas}

    def check(
        self,
        ctx: ActionContext,
        params: ScaleParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        return deployment_health(ctx, params)


Quantities = dict[str, str]


class ResourcesParams(DeploymentParams):
    container: str = Field(pattern=_DNS_NAME)
    limits: Quantities = {}
    requests: Quantities = {}
    # True: the container's resources become exactly these (the inverse uses it); False: only
    # the given quantities change.
    replace: bool = False

    @field_validator("limits", "requests")
    @classmethod
    def quantities(cls, value: Quantities) -> Quantities:
        for resource, quantity in value.items():
            if resource not in ("cpu", "memory", "ephemeral-storage"):
                raise ValueError(f"{resource!r} is not cpu, memory or ephemeral-storage")
            if not _QUANTITY.match(quantity):
                raise ValueError(f"{quantity!r} is not a Kubernetes quantity (256Mi, 500m, 1)")
        return value


def _container(deployment: Any, name: str) -> tuple[int, Any]:
    for index, container in enumerate(deployment.spec.template.spec.containers):
        if container.name == name:
            return index, container
    raise LookupError(f"no container {name!r} in {deployment.metadata.name}")


def _resources(container: Any) -> dict[str, Quantities]:
    resources = container.resources
    return {
        "limits": dict((resources and resources.limits) or {}),
        "requests": dict((resources and resources.requests) or {}),
    }


class SetResources:
    kind: ClassVar[str] = "k8s.set_resources"
    system: ClassVar[System] = System.KUBERNETES
    risk: ClassVar[Risk] = Risk.MEDIUM
    params: ClassVar[type[ActionParams]] = ResourcesParams
    validate_within: ClassVar[float] = 300.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: ResourcesParams) -> Snapshot:
        apps, _core = _apis(ctx)
        deployment = apps.read_namespaced_deployment(params.deployment, params.namespace)
        _index, container = _container(deployment, params.container)
        before = _resources(container)
        inverse = Inverse(
            self.kind,
            {
                "namespace": params.namespace,
                "deployment": params.deployment,
                "container": params.container,
                "replace": True,
                **before,
            },
        )
        return Snapshot({"resources": before, "revision": _revision(deployment)}, inverse)

    def apply(self, ctx: ActionContext, params: ResourcesParams, *, key: str) -> Mapping[str, Any]:
        apps, _core = _apis(ctx)
        deployment = apps.read_namespaced_deployment(params.deployment, params.namespace)
        index, container = _container(deployment, params.container)
        wanted = self._wanted(params, _resources(container))
        path = f"/spec/template/spec/containers/{index}"
        patch = [
            # The container at that index must still be ours, or the patch is refused.
            {"op": "test", "path": f"{path}/name", "value": params.container},
            {"op": "add", "path": f"{path}/resources", "value": wanted},
        ]
        apps.patch_namespaced_deployment(params.deployment, params.namespace, patch)
        return {"resources": wanted}

    def check(
        self,
        ctx: ActionContext,
        params: ResourcesParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        apps, _core = _apis(ctx)
        deployment = apps.read_namespaced_deployment(params.deployment, params.namespace)
        _index, container = _container(deployment, params.container)
        now = _resources(container)
        wanted = self._wanted(params, snapshot.state.get("resources") or now)
        if now != wanted:
            return Health.waiting(f"{params.container} has {now}, not {wanted}")
        return deployment_health(ctx, params)

    @staticmethod
    def _wanted(
        params: ResourcesParams, current: Mapping[str, Quantities]
    ) -> dict[str, Quantities]:
        if params.replace:
            return {"limits": dict(params.limits), "requests": dict(params.requests)}
        return {
            "limits": {**current.get("limits", {}), **params.limits},
            "requests": {**current.get("requests", {}), **params.requests},
        }


class RollbackParams(DeploymentParams):
    # The revision to go back to; None: the one before the current revision.
    revision: int | None = Field(default=None, ge=1)


class Rollback:
    kind: ClassVar[str] = "k8s.rollback"
    system: ClassVar[System] = System.KUBERNETES
    risk: ClassVar[Risk] = Risk.MEDIUM
    params: ClassVar[type[ActionParams]] = RollbackParams
    validate_within: ClassVar[float] = 300.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: RollbackParams) -> Snapshot:
        apps, _core = _apis(ctx)
        deployment = apps.read_namespaced_deployment(params.deployment, params.namespace)
        current = _revision(deployment)
        goal = self._goal(apps, deployment, params)
        inverse = Inverse(
            self.kind,
            {"namespace": params.namespace, "deployment": params.deployment, "revision": current},
        )
        state = {
            "revision": current,
            "goal": _revision(goal),
            "goal_replicaset": goal.metadata.name,
        }
        return Snapshot(state, inverse)

    def apply(self, ctx: ActionContext, params: RollbackParams, *, key: str) -> Mapping[str, Any]:
        apps, _core = _apis(ctx)
        deployment = apps.read_namespaced_deployment(params.deployment, params.namespace)
        goal = self._goal(apps, deployment, params)
        template = apps.api_client.sanitize_for_serialization(goal.spec.template)
        template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
        patch = [{"op": "replace", "path": "/spec/template", "value": template}]
        apps.patch_namespaced_deployment(params.deployment, params.namespace, patch)
        return {"from": _revision(deployment), "to_replicaset": goal.metadata.name}

    def check(
        self,
        ctx: ActionContext,
        params: RollbackParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        apps, _core = _apis(ctx)
        deployment = apps.read_namespaced_deployment(params.deployment, params.namespace)
        current = _current_replicaset(apps, deployment)
        goal = (applied or {}).get("to_replicaset") or snapshot.state.get("goal_replicaset")
        if current is None or current.metadata.name != goal:
            return Health.waiting(f"the deployment does not run {goal} yet")
        return deployment_health(ctx, params)

    @staticmethod
    def _goal(apps: Any, deployment: Any, params: RollbackParams) -> Any:
        current = _revision(deployment)
        sets = sorted(_replicasets(apps, deployment), key=_revision)
        if params.revision is not None:
            for rs in sets:
                if _revision(rs) == params.revision:
                    return rs
            raise LookupError(f"{params.deployment} has no revision {params.revision}")
        older = [rs for rs in sets if _revision(rs) < current]
        if not older:
            raise LookupError(f"{params.deployment} has no revision before {current}")
        return older[-1]


class PodParams(ActionParams):
    namespace: str = Field(pattern=_DNS_NAME)
    pod: str = Field(pattern=_DNS_NAME)
    # Skip the grace period: for a pod stuck terminating on a node that is gone.
    force: bool = False

    def target(self) -> str:
        return f"k8s:{self.namespace}/pod/{self.pod}"


class DeletePod:
    kind: ClassVar[str] = "k8s.delete_pod"
    system: ClassVar[System] = System.KUBERNETES
    risk: ClassVar[Risk] = Risk.LOW
    params: ClassVar[type[ActionParams]] = PodParams
    validate_within: ClassVar[float] = 300.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: PodParams) -> Snapshot:
        _apps, core = _apis(ctx)
        pod = core.read_namespaced_pod(params.pod, params.namespace)
        owners = [
            {"kind": ref.kind, "name": ref.name} for ref in (pod.metadata.owner_references or [])
        ]
        state = {
            "uid": pod.metadata.uid,
            "phase": pod.status.phase if pod.status else None,
            "troubles": pod_troubles(pod),
            "owners": owners,
        }
        return Snapshot(state, inverse=None)  # its controller makes a new one; a bare pod is gone

    def apply(self, ctx: ActionContext, params: PodParams, *, key: str) -> Mapping[str, Any]:
        from kubernetes import client

        _apps, core = _apis(ctx)
        pod = core.read_namespaced_pod(params.pod, params.namespace)
        options = client.V1DeleteOptions(
            preconditions=client.V1Preconditions(uid=pod.metadata.uid),
            grace_period_seconds=0 if params.force else None,
        )
        core.delete_namespaced_pod(params.pod, params.namespace, body=options)
        return {"deleted_uid": pod.metadata.uid}

    def check(
        self,
        ctx: ActionContext,
        params: PodParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        from kubernetes.client.exceptions import ApiException

        apps, core = _apis(ctx)
        try:
            pod = core.read_namespaced_pod(params.pod, params.namespace)
            if pod.metadata.uid == snapshot.state.get("uid"):
                return Health.waiting(f"{params.pod} is still there")
        except ApiException as error:
            if error.status != 404:
                raise
        for owner in snapshot.state.get("owners", []):
            if owner["kind"] == "ReplicaSet":
                rs = apps.read_namespaced_replica_set(owner["name"], params.namespace)
                desired, ready = rs.spec.replicas or 0, rs.status.ready_replicas or 0
                if ready < desired:
                    return Health.waiting(f"{owner['name']}: {ready}/{desired} ready")
                return Health.healthy(
                    f"{params.pod} replaced; {owner['name']} {ready}/{desired} ready"
                )
        return Health.healthy(f"{params.pod} deleted")


class NodeParams(ActionParams):
    node: str = Field(pattern=_DNS_NAME)

    def target(self) -> str:
        return f"k8s:node/{self.node}"


class _Cordon:
    system: ClassVar[System] = System.KUBERNETES
    params: ClassVar[type[ActionParams]] = NodeParams
    validate_within: ClassVar[float] = 60.0
    sensitive: ClassVar[bool] = False
    unschedulable: ClassVar[bool]
    undo: ClassVar[str]

    def snapshot(self, ctx: ActionContext, params: NodeParams) -> Snapshot:
        _apps, core = _apis(ctx)
        node = core.read_node(params.node)
        before = bool(node.spec.unschedulable)
        inverse = (
            None if before == self.unschedulable else Inverse(self.undo, {"node": params.node})
        )
        return Snapshot({"unschedulable": before}, inverse)

    def apply(self, ctx: ActionContext, params: NodeParams, *, key: str) -> Mapping[str, Any]:
        _apps, core = _apis(ctx)
        core.patch_node(params.node, {"spec": {"unschedulable": self.unschedulable}})
        return {"unschedulable": self.unschedulable}

    def check(
        self,
        ctx: ActionContext,
        params: NodeParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        _apps, core = _apis(ctx)
        node = core.read_node(params.node)
        if bool(node.spec.unschedulable) != self.unschedulable:
            return Health.waiting(
                f"{params.node} is not {'cordoned' if self.unschedulable else 'uncordoned'} yet"
            )
        pods = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={params.node}").items
        state = "cordoned" if self.unschedulable else "schedulable again"
        return Health.healthy(f"{params.node} {state}; {len(pods)} pods still on it")


class CordonNode(_Cordon):
    """Keep new pods off a NotReady node (its pods are left to their controllers)."""

    kind: ClassVar[str] = "k8s.cordon_node"
    risk: ClassVar[Risk] = Risk.MEDIUM
    unschedulable: ClassVar[bool] = True
    undo: ClassVar[str] = "k8s.uncordon_node"


class UncordonNode(_Cordon):
    kind: ClassVar[str] = "k8s.uncordon_node"
    risk: ClassVar[Risk] = Risk.LOW
    unschedulable: ClassVar[bool] = False
    undo: ClassVar[str] = "k8s.cordon_node"
