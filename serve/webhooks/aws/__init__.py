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
its incident is grouped by target (the instance, the service, the project) and cause. A
failure that names a workload (an ECS service, an alarm's service or function) stores it as a
watched failure does, for a deploy of it to be found (`identity`, `recoverops.correlation`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..base import Delivery, bounded_delivery_id, field
from . import cloudwatch, codebuild, codedeploy, codepipeline, ec2, ecs
from .common import EventRead


@dataclass(frozen=True, slots=True)
class Skipped:
    """An event RecoverOps does not read, and why."""

    event: str
    reason: str


Mapper = Callable[[Mapping[str, Any], Mapping[str, Any]], EventRead]
# One line per event type RecoverOps reads: its detail-type, and the mapper.
MAPPERS: Mapping[str, Mapper] = {
    "EC2 Instance State-change Notification": ec2.state_change,
    "ECS Task State Change": ecs.task_state_change,
    "ECS Service Action": ecs.service_action,
    "ECS Deployment State Change": ecs.deployment_state_change,
    "CodeBuild Build State Change": codebuild.build_state_change,
    "CodeDeploy Deployment State-change Notification": codedeploy.deployment_state_change,
    "CodePipeline Pipeline Execution State Change": codepipeline.execution_state_change,
    "CloudWatch Alarm State Change": cloudwatch.alarm_state_change,
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
        identity=read.identity if read.failure else None,
    )
