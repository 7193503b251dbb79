"""The workload an AWS event names, as a deploy is matched by (`recoverops.correlation`).

| event                          | workload                 | namespace     | images         |
|--------------------------------|--------------------------|---------------|----------------|
| ECS task of a service          | service X (`service:X`)  | the cluster   | its containers |
| ECS service action, deployment | the service (its ARN)    | the cluster   |                |
| CloudWatch alarm, by dimension | ECS `ServiceName`        | `ClusterName` |                |
|                                | Lambda `FunctionName`    |               |                |
|                                | ALB `TargetGroup`'s name |               |                |
|                                | `AutoScalingGroupName`   |               |                |
| CodeDeploy deployment          | the deployment group     | the application (`app` label)  |

An event that names no workload (an instance, a standalone task, an alarm on a queue) has
none: nothing a deploy ships is known to have failed, so nothing is put down to one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from recoverops.correlation import Identity

# The dimensions that name a workload, the likeliest deploy target first.
_WORKLOAD_DIMENSIONS = ("ServiceName", "FunctionName", "TargetGroup", "AutoScalingGroupName")
_SERVICE_GROUP = "service:"


def ecs_service(cluster: str, service: str, images: Iterable[str] = ()) -> dict[str, Any] | None:
    """An ECS service's identity; None without a service name."""
    if not service or service == "?":
        return None
    found = tuple(dict.fromkeys(image for image in images if image))
    return Identity(service, namespace=cluster, images=found).to_json()


def ecs_task(cluster: str, group: str, images: Iterable[str]) -> dict[str, Any] | None:
    """A task's service (`group` is `service:NAME` for a service's tasks), or None for a task
    run on its own (`family:NAME`): no service of it to deploy."""
    if not group.startswith(_SERVICE_GROUP):
        return None
    return ecs_service(cluster, group.removeprefix(_SERVICE_GROUP), images)


def alarm(dimensions: Mapping[str, Any]) -> dict[str, Any] | None:
    """The workload an alarm's metric dimensions name, or None."""
    for name in _WORKLOAD_DIMENSIONS:
        value = dimensions.get(name)
        if not isinstance(value, str) or not value:
            continue
        if name == "ServiceName":
            return ecs_service(str(dimensions.get("ClusterName") or ""), value)
        if name == "TargetGroup":
            # `targetgroup/NAME/HASH`: the name is what an operator calls it.
            parts = value.split("/")
            value = parts[1] if len(parts) == 3 and parts[0] == "targetgroup" else value
        return Identity(value).to_json()
    return None


def codedeploy(application: str, group: str) -> dict[str, Any] | None:
    """A CodeDeploy deployment group of an application; None without either."""
    if not application or not group:
        return None
    return Identity(group, namespace=application, labels={"app": application}).to_json()
