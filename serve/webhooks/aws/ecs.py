"""ECS: tasks that stopped on their own, and a service's warnings and failed deployments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import MalformedPayload, field, optional_field
from . import identity
from .common import EventRead, last_name, row, service_of

# Task stops that are no failure: asked for, or a deployment's or a scale-in's old tasks.
_ORDERLY_STOP_CODES = frozenset({"UserInitiated"})
_SCALING = "Scaling activity initiated by"


def task_state_change(_event: Mapping[str, Any], detail: Mapping[str, Any]) -> EventRead:
    task = field(detail, "taskArn", str)
    status = field(detail, "lastStatus", str)
    cluster = last_name(optional_field(detail, "clusterArn", str) or "")
    group = optional_field(detail, "group", str) or f"task:{last_name(task)}"
    stop_code = optional_field(detail, "stopCode", str) or ""
    stopped_reason = optional_field(detail, "stoppedReason", str) or ""
    containers = detail.get("containers") or []
    if not isinstance(containers, list):
        raise MalformedPayload("field detail.containers must be a list")
    orderly = stop_code in _ORDERLY_STOP_CODES or stopped_reason.startswith(_SCALING)
    failure = status == "STOPPED" and not orderly
    lines = [
        row("Kind", "ECS task"),
        row("Cluster", cluster),
        row("Task", task),
        row("Group", group),
        row("Task Def", last_name(optional_field(detail, "taskDefinitionArn", str) or "")),
        row("Last Status", status),
        row("Stop Code", stop_code),
        row("Stopped Reason", stopped_reason),
        "Containers:",
    ]
    reasons: list[str] = []
    images: list[str] = []
    for container in containers:
        if not isinstance(container, Mapping):
            raise MalformedPayload("field detail.containers must hold objects")
        lines.append(f"  {container.get('name', '?')}:")
        if isinstance(container.get("image"), str):
            images.append(container["image"])
        lines.append(row("Last Status", container.get("lastStatus", ""), 4))
        if container.get("exitCode") is not None:
            lines.append(row("Exit Code", container["exitCode"], 4))
        if container.get("reason"):
            reasons.append(str(container["reason"]))
            lines.append(row("Reason", container["reason"], 4))
    # The container's own reason names the cause (OutOfMemoryError, CannotPullContainerError);
    # the task's stop code otherwise (EssentialContainerExited, TaskFailedToStart, …).
    first = reasons[0] if reasons else stopped_reason if ":" in stopped_reason else ""
    cause = first.split(":", 1)[0].strip() if first else stop_code or "TaskStopped"
    if "health checks" in stopped_reason:
        cause = "HealthChecksFailed"
    return EventRead(
        "ecs.task-state-change",
        f"ecs/{cluster}/{group}",
        failure,
        cause=cause,
        subject=f"ECS task {last_name(task)}",
        lines=lines,
        identity=identity.ecs_task(cluster, group, images),
    )


def service_action(event: Mapping[str, Any], detail: Mapping[str, Any]) -> EventRead:
    event_type = field(detail, "eventType", str)
    name = field(detail, "eventName", str)
    cluster, service = service_of(event)
    cluster = last_name(optional_field(detail, "clusterArn", str) or "") or cluster
    reason = optional_field(detail, "reason", str) or ""
    lines = [
        row("Kind", "ECS service"),
        row("Cluster", cluster),
        row("Service", service),
        row("Event", f"{event_type} {name}"),
        *([row("Reason", reason)] if reason else []),
    ]
    # The messages ECS shows in the service's events for these (the console's Events tab).
    if name == "SERVICE_TASK_PLACEMENT_FAILURE":
        lack = {"RESOURCE:MEMORY": "memory", "RESOURCE:CPU": "CPU"}.get(reason)
        lines.append(
            f"(service {service}) was unable to place a task because no container instance "
            "met all of its requirements."
        )
        if lack is not None:
            lines.append(
                f"The closest matching container instance has insufficient {lack} available."
            )
    elif name == "SERVICE_TASK_START_IMPAIRED":
        lines.append(f"(service {service}) is unable to consistently start tasks successfully.")
    return EventRead(
        "ecs.service-action",
        f"ecs/{cluster}/service:{service}",
        event_type in {"WARN", "ERROR"},
        cause=name,
        subject=f"ECS service {service}",
        lines=lines,
        identity=identity.ecs_service(cluster, service),
    )


def deployment_state_change(event: Mapping[str, Any], detail: Mapping[str, Any]) -> EventRead:
    name = field(detail, "eventName", str)
    cluster, service = service_of(event)
    reason = optional_field(detail, "reason", str) or ""
    lines = [
        row("Kind", "ECS deployment"),
        row("Service", service),
        row("Deployment", optional_field(detail, "deploymentId", str) or ""),
        row("Event", name),
        row("Reason", reason),
    ]
    return EventRead(
        "ecs.deployment-state-change",
        f"ecs/{cluster}/service:{service}",
        name == "SERVICE_DEPLOYMENT_FAILED",
        cause=name,
        subject=f"ECS service {service}",
        lines=lines,
        identity=identity.ecs_service(cluster, service),
    )
