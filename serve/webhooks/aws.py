"""AWS: EventBridge events, delivered through an SNS topic (the SNS message's `Message` is the
event's JSON). Each event type RecoverOps reads is one mapper below; an event it does not read
is skipped with the reason (the route answers 202, ignored).

| detail-type                                   | a failure when                               |
|-----------------------------------------------|----------------------------------------------|
| EC2 Instance State-change Notification        | the state is `stopped` or `terminated`       |
| ECS Task State Change                         | STOPPED, and not by a user or a scale-in     |
| ECS Service Action                            | eventType WARN or ERROR                      |
| ECS Deployment State Change                   | SERVICE_DEPLOYMENT_FAILED                    |
| CodeBuild Build State Change                  | FAILED, FAULT or TIMED_OUT                   |
| CodeDeploy Deployment State-change Notification | FAILURE                                    |
| CodePipeline Pipeline Execution State Change  | FAILED                                       |
| CloudWatch Alarm State Change                 | the new state is ALARM (EC2 status checks    |
|                                               | come this way: StatusCheckFailed alarms)     |

An event that is none of these failures (a task that started, a build that passed) is stored
as history and not analyzed. A failure has no log to fetch: its text is written here from the
event's fields, in the words AWS itself prints for them (`Essential container in task exited`,
`StatusCheckFailed_Instance`, `BUILD_TIMED_OUT`), which the signature catalogue classifies;
its incident is grouped by target (the instance, the service, the project) and cause.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .base import Delivery, MalformedPayload, bounded_delivery_id, field, optional_field

# Task stops that are no failure: asked for, or a deployment's or a scale-in's old tasks.
_ORDERLY_STOP_CODES = frozenset({"UserInitiated"})
_SCALING = "Scaling activity initiated by"
_FAILED_BUILDS = frozenset({"FAILED", "FAULT", "TIMED_OUT"})
_STOPPED_STATES = frozenset({"stopped", "terminated"})


@dataclass(frozen=True, slots=True)
class Skipped:
    """An event RecoverOps does not read, and why."""

    event: str
    reason: str


@dataclass(frozen=True, slots=True)
class _Read:
    """What a mapper read from one event."""

    kind: str
    target: str
    failure: bool
    cause: str = ""
    subject: str = ""
    lines: Sequence[str] = ()


def _row(label: str, value: object, indent: int = 0) -> str:
    """A describe-like row: values start at column 16 (20 inside a container's block)."""
    width = (20 if indent else 16) - indent
    return f"{' ' * indent}{label + ':':<{width}}{value}"


def _service(event: Mapping[str, Any]) -> tuple[str, str]:
    """(cluster, service) of an ECS service event, from its service ARN
    (`arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE`)."""
    resources = event.get("resources")
    arn = str(resources[0]) if isinstance(resources, list) and resources else ""
    parts = arn.split(":", 5)[-1].split("/")
    if len(parts) == 3 and parts[0] == "service":
        return parts[1], parts[2]
    return "", _name(arn) or "?"


def _name(arn: str) -> str:
    """The last part of an ARN or a name (`arn:…:cluster/prod` → `prod`)."""
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1] if arn else ""


def _ec2_state(event: Mapping[str, Any], detail: Mapping[str, Any]) -> _Read:
    instance = field(detail, "instance-id", str)
    state = field(detail, "state", str)
    failure = state in _STOPPED_STATES
    lines = [
        _row("Kind", "EC2 instance"),
        _row("Instance", instance),
        _row("Region", event.get("region", "")),
        _row("State", state),
        _row("Reason", f"EC2 instance {instance} is in an unexpected state '{state}'"),
    ]
    return _Read(
        "ec2.state-change",
        f"ec2/{instance}",
        failure,
        cause=f"Instance{state.capitalize()}",
        subject=f"EC2 instance {instance}",
        lines=lines,
    )


def _ecs_task(_event: Mapping[str, Any], detail: Mapping[str, Any]) -> _Read:
    task = field(detail, "taskArn", str)
    status = field(detail, "lastStatus", str)
    cluster = _name(optional_field(detail, "clusterArn", str) or "")
    group = optional_field(detail, "group", str) or f"task:{_name(task)}"
    stop_code = optional_field(detail, "stopCode", str) or ""
    stopped_reason = optional_field(detail, "stoppedReason", str) or ""
    containers = detail.get("containers") or []
    if not isinstance(containers, list):
        raise MalformedPayload("field detail.containers must be a list")
    orderly = stop_code in _ORDERLY_STOP_CODES or stopped_reason.startswith(_SCALING)
    failure = status == "STOPPED" and not orderly
    lines = [
        _row("Kind", "ECS task"),
        _row("Cluster", cluster),
        _row("Task", task),
        _row("Group", group),
        _row("Task Def", _name(optional_field(detail, "taskDefinitionArn", str) or "")),
        _row("Last Status", status),
        _row("Stop Code", stop_code),
        _row("Stopped Reason", stopped_reason),
        "Containers:",
    ]
    reasons: list[str] = []
    for container in containers:
        if not isinstance(container, Mapping):
            raise MalformedPayload("field detail.containers must hold objects")
        lines.append(f"  {container.get('name', '?')}:")
        lines.append(_row("Last Status", container.get("lastStatus", ""), 4))
        if container.get("exitCode") is not None:
            lines.append(_row("Exit Code", container["exitCode"], 4))
        if container.get("reason"):
            reasons.append(str(container["reason"]))
            lines.append(_row("Reason", container["reason"], 4))
    # The container's own reason names the cause (OutOfMemoryError, CannotPullContainerError);
    # the task's stop code otherwise (EssentialContainerExited, TaskFailedToStart, …).
    first = reasons[0] if reasons else stopped_reason if ":" in stopped_reason else ""
    cause = first.split(":", 1)[0].strip() if first else stop_code or "TaskStopped"
    if "health checks" in stopped_reason:
        cause = "HealthChecksFailed"
    return _Read(
        "ecs.task-state-change",
        f"ecs/{cluster}/{group}",
        failure,
        cause=cause,
        subject=f"ECS task {_name(task)}",
        lines=lines,
    )


def _ecs_service(event: Mapping[str, Any], detail: Mapping[str, Any]) -> _Read:
    event_type = field(detail, "eventType", str)
    name = field(detail, "eventName", str)
    cluster, service = _service(event)
    cluster = _name(optional_field(detail, "clusterArn", str) or "") or cluster
    reason = optional_field(detail, "reason", str) or ""
    lines = [
        _row("Kind", "ECS service"),
        _row("Cluster", cluster),
        _row("Service", service),
        _row("Event", f"{event_type} {name}"),
        *([_row("Reason", reason)] if reason else []),
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
    return _Read(
        "ecs.service-action",
        f"ecs/{cluster}/service:{service}",
        event_type in {"WARN", "ERROR"},
        cause=name,
        subject=f"ECS service {service}",
        lines=lines,
    )


def _ecs_deployment(event: Mapping[str, Any], detail: Mapping[str, Any]) -> _Read:
    name = field(detail, "eventName", str)
    cluster, service = _service(event)
    reason = optional_field(detail, "reason", str) or ""
    lines = [
        _row("Kind", "ECS deployment"),
        _row("Service", service),
        _row("Deployment", optional_field(detail, "deploymentId", str) or ""),
        _row("Event", name),
        _row("Reason", reason),
    ]
    return _Read(
        "ecs.deployment-state-change",
        f"ecs/{cluster}/service:{service}",
        name == "SERVICE_DEPLOYMENT_FAILED",
        cause=name,
        subject=f"ECS service {service}",
        lines=lines,
    )


def _codebuild(_event: Mapping[str, Any], detail: Mapping[str, Any]) -> _Read:
    status = field(detail, "build-status", str)
    project = field(detail, "project-name", str)
    build = _name(optional_field(detail, "build-id", str) or "")
    lines = [
        _row("Kind", "CodeBuild build"),
        _row("Project", project),
        _row("Build", build),
        _row("Status", status),
        "Phases:",
    ]
    codes: list[str] = []
    info = detail.get("additional-information")
    phases = info.get("phases") if isinstance(info, Mapping) else None
    for phase in phases if isinstance(phases, list) else []:
        if not isinstance(phase, Mapping) or phase.get("phase-status") in (None, "SUCCEEDED"):
            continue
        lines.append(f"  {phase.get('phase-type', '?'):<18} {phase.get('phase-status')}")
        for context in phase.get("phase-context") or []:
            text = str(context).strip()
            if text and text != ":":
                lines.append(f"    {text}")
                codes.append(text.split(":", 1)[0].strip())
    logs = info.get("logs") if isinstance(info, Mapping) else None
    if isinstance(logs, Mapping) and logs.get("group-name"):
        lines.append(_row("Logs", f"{logs.get('group-name')} {logs.get('stream-name', '')}"))
    return _Read(
        "codebuild.build-state-change",
        f"codebuild/{project}",
        status in _FAILED_BUILDS,
        cause=next((c for c in codes if c.isupper()), status),
        subject=f"CodeBuild build {build}",
        lines=lines,
    )


def _codedeploy(_event: Mapping[str, Any], detail: Mapping[str, Any]) -> _Read:
    state = field(detail, "state", str)
    deployment = field(detail, "deploymentId", str)
    application = optional_field(detail, "application", str) or ""
    group = optional_field(detail, "deploymentGroup", str) or ""
    lines = [
        _row("Kind", "CodeDeploy deployment"),
        _row("Application", application),
        _row("Group", group),
        _row("Deployment", deployment),
        _row("State", state),
        f"CodeDeploy deployment {deployment} of {application} to {group} failed: state {state}",
    ]
    return _Read(
        "codedeploy.deployment-state-change",
        f"codedeploy/{application}/{group}",
        state == "FAILURE",
        cause="DeploymentFailed",
        subject=f"CodeDeploy deployment {deployment}",
        lines=lines,
    )


def _codepipeline(_event: Mapping[str, Any], detail: Mapping[str, Any]) -> _Read:
    state = field(detail, "state", str)
    pipeline = field(detail, "pipeline", str)
    execution = optional_field(detail, "execution-id", str) or ""
    lines = [
        _row("Kind", "CodePipeline execution"),
        _row("Pipeline", pipeline),
        _row("Execution", execution),
        _row("State", state),
        f"CodePipeline pipeline {pipeline} execution {execution} failed: state {state}",
    ]
    return _Read(
        "codepipeline.execution-state-change",
        f"codepipeline/{pipeline}",
        state == "FAILED",
        cause="ExecutionFailed",
        subject=f"CodePipeline execution {execution}",
        lines=lines,
    )


def _alarm(event: Mapping[str, Any], detail: Mapping[str, Any]) -> _Read:
    name = field(detail, "alarmName", str)
    state = field(detail, "state.value", str)
    reason = optional_field(detail, "state.reason", str) or ""
    previous = optional_field(detail, "previousState.value", str) or ""
    namespace, metric, dimensions = "", "", ""
    config = detail.get("configuration")
    metrics = config.get("metrics") if isinstance(config, Mapping) else None
    for entry in metrics if isinstance(metrics, list) else []:
        stat = entry.get("metricStat") if isinstance(entry, Mapping) else None
        found = stat.get("metric") if isinstance(stat, Mapping) else None
        if isinstance(found, Mapping):
            namespace, metric = str(found.get("namespace", "")), str(found.get("name", ""))
            dims = found.get("dimensions")
            if isinstance(dims, Mapping):
                dimensions = ", ".join(f"{k}={v}" for k, v in sorted(dims.items()))
            break
    lines = [
        f'{state}: "{name}" on {namespace} {metric} in {event.get("region", "")}'.rstrip(),
        _row("Alarm", name),
        _row("Metric", f"{namespace} {metric}".strip()),
        *([_row("Dimensions", dimensions)] if dimensions else []),
        _row("State", f"{previous} -> {state}"),
        _row("Reason", reason),
    ]
    return _Read(
        "cloudwatch.alarm-state-change",
        f"alarm/{name}",
        state == "ALARM",
        cause=metric or "Alarm",
        subject=f"CloudWatch alarm {name}",
        lines=lines,
    )


Mapper = Callable[[Mapping[str, Any], Mapping[str, Any]], _Read]
MAPPERS: Mapping[str, Mapper] = {
    "EC2 Instance State-change Notification": _ec2_state,
    "ECS Task State Change": _ecs_task,
    "ECS Service Action": _ecs_service,
    "ECS Deployment State Change": _ecs_deployment,
    "CodeBuild Build State Change": _codebuild,
    "CodeDeploy Deployment State-change Notification": _codedeploy,
    "CodePipeline Pipeline Execution State Change": _codepipeline,
    "CloudWatch Alarm State Change": _alarm,
}


def delivery(event: dict[str, Any]) -> Delivery | Skipped:
    """The event as a delivery, or why it is skipped; MalformedPayload when it is no
    EventBridge event or lacks a field its type has."""
    detail_type = field(event, "detail-type", str)
    event_id = field(event, "id", str)
    field(event, "source", str)
    detail = field(event, "detail", dict)
    mapper = MAPPERS.get(detail_type)
    if mapper is None:
        return Skipped(detail_type, f"RecoverOps reads no {detail_type!r:.80} events")
    read = mapper(event, detail)
    return Delivery(
        kind=read.kind,
        delivery_id=bounded_delivery_id(event_id),
        failure=read.failure,
        target=read.target,
        body=event,
        text="\n".join(read.lines) + "\n" if read.failure else None,
        cause=read.cause if read.failure else None,
        subject=read.subject,
    )
