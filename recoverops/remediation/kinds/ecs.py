"""ECS: force a new deployment of a service, or roll its task definition back.

Both are validated the same way: the service has settled on one deployment of the expected task
definition with every desired task running (a deployment whose rollout state is FAILED, or that
the circuit breaker rolled back, fails the validation at once).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field

from recoverops.remediation.kind import ActionContext, ActionParams
from recoverops.remediation.model import Health, Inverse, Risk, Snapshot, System


class ServiceParams(ActionParams):
    cluster: str = Field(min_length=1, max_length=255)
    service: str = Field(min_length=1, max_length=255)

    def target(self) -> str:
        return f"aws:ecs:{self.cluster}/{self.service}"


class RollbackParams(ServiceParams):
    # The task definition (family:revision or ARN) to go back to; None: the family's revision
    # before the service's current one.
    task_definition: str | None = Field(default=None, min_length=1)


def describe_service(ctx: ActionContext, params: ServiceParams) -> dict[str, Any]:
    answer = ctx.clients.aws("ecs").describe_services(
        cluster=params.cluster, services=[params.service]
    )
    services = answer.get("services", [])
    if not services:
        raise LookupError(f"no service {params.service} in cluster {params.cluster}")
    return dict(services[0])


def settled(service: Mapping[str, Any], *, task_definition: str | None) -> Health:
    name = service.get("serviceName", "?")
    deployments = service.get("deployments", [])
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    if primary is None:
        return Health.waiting(f"{name}: no primary deployment")
    if primary.get("rolloutState") == "FAILED":
        why = primary.get("rolloutStateReason", "")
        return Health.failed(f"{name}: deployment {primary.get('id')} failed: {why}")
    # The service's own task definition: the one its deployments converge on.
    current = service.get("taskDefinition", "")
    if task_definition is not None and not _same_definition(current, task_definition):
        return Health.failed(f"{name}: the service runs {current}, not {task_definition}")
    desired = service.get("desiredCount", 0)
    running = primary.get("runningCount", service.get("runningCount", 0))
    if len(deployments) == 1 and running >= desired:
        return Health.healthy(f"{name}: {running}/{desired} tasks of {current}")
    return Health.waiting(f"{name}: {len(deployments)} deployments, {running}/{desired} running")


def _same_definition(arn: str, wanted: str) -> bool:
    """`family:revision` names the same definition as its ARN."""
    return arn == wanted or arn.endswith(f"/{wanted}")


class ForceDeployment:
    kind: ClassVar[str] = "ecs.force_deployment"
    system: ClassVar[System] = System.AWS
    risk: ClassVar[Risk] = Risk.MEDIUM
    params: ClassVar[type[ActionParams]] = ServiceParams
    validate_within: ClassVar[float] = 900.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: ServiceParams) -> Snapshot:
        service = describe_service(ctx, params)
        state = {
            "task_definition": service["taskDefinition"],
            "desired_count": service.get("desiredCount"),
            "deployments": [d.get("id") for d in service.get("deployments", [])],
        }
        return Snapshot(state, inverse=None)  # the same definition again: nothing to undo

    def apply(self, ctx: ActionContext, params: ServiceParams, *, key: str) -> Mapping[str, Any]:
        answer = ctx.clients.aws("ecs").update_service(
            cluster=params.cluster, service=params.service, forceNewDeployment=True
        )
        service = answer["service"]
        return {
            "task_definition": service["taskDefinition"],
            "deployments": len(service.get("deployments", [])),
        }

    def check(
        self,
        ctx: ActionContext,
        params: ServiceParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        return settled(
            describe_service(ctx, params), task_definition=snapshot.state.get("task_definition")
        )


class RollbackTaskDefinition:
    kind: ClassVar[str] = "ecs.rollback_task_definition"
    system: ClassVar[System] = System.AWS
    risk: ClassVar[Risk] = Risk.MEDIUM
    params: ClassVar[type[ActionParams]] = RollbackParams
    validate_within: ClassVar[float] = 900.0
    sensitive: ClassVar[bool] = False

    def snapshot(self, ctx: ActionContext, params: RollbackParams) -> Snapshot:
        service = describe_service(ctx, params)
        current = service["taskDefinition"]
        state = {"task_definition": current, "goal": self._goal(ctx, params, current)}
        inverse = Inverse(
            self.kind,
            {"cluster": params.cluster, "service": params.service, "task_definition": current},
        )
        return Snapshot(state, inverse)

    def apply(self, ctx: ActionContext, params: RollbackParams, *, key: str) -> Mapping[str, Any]:
        current = describe_service(ctx, params)["taskDefinition"]
        goal = self._goal(ctx, params, current)
        answer = ctx.clients.aws("ecs").update_service(
            cluster=params.cluster, service=params.service, taskDefinition=goal
        )
        return {"from": current, "to": answer["service"]["taskDefinition"]}

    def check(
        self,
        ctx: ActionContext,
        params: RollbackParams,
        snapshot: Snapshot,
        applied: Mapping[str, Any] | None,
    ) -> Health:
        goal = (applied or {}).get("to") or snapshot.state.get("goal")
        return settled(describe_service(ctx, params), task_definition=goal)

    @staticmethod
    def _goal(ctx: ActionContext, params: RollbackParams, current: str) -> str:
        if params.task_definition is not None:
            return params.task_definition
        ecs = ctx.clients.aws("ecs")
        described = ecs.describe_task_definition(taskDefinition=current)["taskDefinition"]
        family, revision = described["family"], int(described["revision"])
        arns = ecs.list_task_definitions(familyPrefix=family, sort="DESC")["taskDefinitionArns"]
        older = [
            a
            for a in arns
            if a.rsplit(":", 1)[0].endswith(f"/{family}") and int(a.rsplit(":", 1)[1]) < revision
        ]
        if not older:
            raise LookupError(f"{family}:{revision} has no earlier revision to roll back to")
        return str(max(older, key=lambda a: int(a.rsplit(":", 1)[1])))
