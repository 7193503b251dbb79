"""What in a Kubernetes object is a failure, and the kubectl-describe-like lines that say so.

Pure functions over the `kubernetes` client's models (pods, events, nodes, jobs): no API calls.
Each answers `Finding`s, one per cause seen on the object:

| object | seen as                                                    | cause              |
|--------|------------------------------------------------------------|--------------------|
| pod    | a container waiting in CrashLoopBackOff, last state OOM    | OOMKilled          |
| pod    | a container waiting in CrashLoopBackOff (other last state) | CrashLoopBackOff   |
| pod    | a container terminated OOMKilled (restartPolicy Never)     | OOMKilled          |
| pod    | ImagePullBackOff, ErrImagePull, InvalidImageName, …        | ImagePullBackOff   |
| pod    | CreateContainerConfigError, CreateContainerError           | the reason itself  |
| pod    | phase Failed with reason Evicted                           | Evicted            |
| pod    | condition PodScheduled False, reason Unschedulable         | FailedScheduling   |
| event  | Warning FailedScheduling, Unhealthy, Evicted, OOMKilling,  | the reason (Job:   |
|        | NodeNotReady, BackoffLimitExceeded, DeadlineExceeded       |  JobFailed)        |
| node   | condition Ready not True                                   | NodeNotReady       |
| job    | condition Failed True                                      | JobFailed          |

The lines read like `kubectl describe` (`Reason:       OOMKilled`), which is what the signature
catalogue knows; the pod's name is in them for the reader, while grouping is by workload and
cause (see `recoverops.sources.kubernetes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

OOM_KILLED = "OOMKilled"
CRASH_LOOP = "CrashLoopBackOff"
IMAGE_PULL = "ImagePullBackOff"
FAILED_SCHEDULING = "FailedScheduling"
EVICTED = "Evicted"
NODE_NOT_READY = "NodeNotReady"
JOB_FAILED = "JobFailed"
UNHEALTHY = "Unhealthy"

# Waiting reasons that are one cause: a pod flips between ErrImagePull and ImagePullBackOff.
_PULL_REASONS = frozenset(
    {"ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull", "InvalidImageName"}
)
_START_REASONS = frozenset(
    {"CreateContainerConfigError", "CreateContainerError", "RunContainerError"}
)
# Warning events that report a failure, and the cause each is.
EVENT_CAUSES = {
    FAILED_SCHEDULING: FAILED_SCHEDULING,
    UNHEALTHY: UNHEALTHY,
    EVICTED: EVICTED,
    "OOMKilling": OOM_KILLED,
    NODE_NOT_READY: NODE_NOT_READY,
    "BackoffLimitExceeded": JOB_FAILED,
    "DeadlineExceeded": JOB_FAILED,
}
# Where describe's values start: column 16 at the top level, 20 inside a container's block.
_VALUE_COLUMN = 16
_NESTED_VALUE_COLUMN = 20


@dataclass(frozen=True, slots=True)
class Finding:
    """One cause seen on one object; `containers` are those whose previous logs tell more."""

    cause: str
    object_kind: str  # "Pod", "Node", "Job", or the involved object's kind for an event
    namespace: str
    name: str
    lines: tuple[str, ...]
    containers: tuple[str, ...] = field(default=())

    @property
    def subject(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.object_kind.lower()} {where}{self.name}"


def _row(label: str, value: object, indent: int = 0) -> str:
    width = (_NESTED_VALUE_COLUMN if indent else _VALUE_COLUMN) - indent
    return f"{' ' * indent}{label + ':':<{width}}{value}"


def _header(kind: str, meta: Any) -> list[str]:
    rows = [_row("Kind", kind), _row("Name", meta.name)]
    if meta.namespace:
        rows.append(_row("Namespace", meta.namespace))
    return rows


def _state_lines(title: str, state: Any) -> list[str]:
    if state is None:
        return []
    if state.waiting is not None:
        rows = [_row(title, "Waiting", 4), _row("Reason", state.waiting.reason, 6)]
        if state.waiting.message:
            rows.append(_row("Message", state.waiting.message, 6))
        return rows
    if state.terminated is not None:
        done = state.terminated
        rows = [_row(title, "Terminated", 4), _row("Reason", done.reason, 6)]
        if done.message:
            rows.append(_row("Message", done.message, 6))
        rows.append(_row("Exit Code", done.exit_code, 6))
        return rows
    if state.running is not None:
        return [_row(title, "Running", 4)]
    return []


def _container_lines(status: Any) -> list[str]:
    return [
        f"  {status.name}:",
        _row("Image", status.image, 4),
        *_state_lines("State", status.state),
        *_state_lines("Last State", status.last_state),
        _row("Ready", status.ready, 4),
        _row("Restart Count", status.restart_count, 4),
    ]


def _container_cause(status: Any) -> str | None:
    state, last = status.state, status.last_state
    waiting = state.waiting if state is not None else None
    terminated = state.terminated if state is not None else None
    last_terminated = last.terminated if last is not None else None
    if waiting is not None and waiting.reason == CRASH_LOOP:
        if last_terminated is not None and last_terminated.reason == OOM_KILLED:
            return OOM_KILLED
        return CRASH_LOOP
    if waiting is not None and waiting.reason in _PULL_REASONS:
        return IMAGE_PULL
    if waiting is not None and waiting.reason in _START_REASONS:
        return str(waiting.reason)
    if terminated is not None and terminated.reason == OOM_KILLED:
        return OOM_KILLED
    return None


def pod_findings(pod: Any) -> list[Finding]:
    """The failures a pod's status shows, one per cause (its containers' blocks merged)."""
    meta, status = pod.metadata, pod.status
    if status is None or meta.deletion_timestamp is not None:
        return []
    header = [*_header("Pod", meta), _row("Status", status.phase)]
    found: dict[str, tuple[list[str], list[str]]] = {}
    statuses = [*(status.init_container_statuses or []), *(status.container_statuses or [])]
    for container in statuses:
        cause = _container_cause(container)
        if cause is not None:
            blocks, names = found.setdefault(cause, ([], []))
            blocks.extend(_container_lines(container))
            names.append(container.name)
    findings = [
        Finding(
            cause, "Pod", meta.namespace, meta.name, (*header, "Containers:", *blocks), tuple(names)
        )
        for cause, (blocks, names) in found.items()
    ]
    if status.phase == "Failed" and status.reason == EVICTED:
        lines = (*header, _row("Reason", EVICTED), _row("Message", status.message or ""))
        findings.append(Finding(EVICTED, "Pod", meta.namespace, meta.name, lines))
    for condition in status.conditions or []:
        if (
            condition.type == "PodScheduled"
            and condition.status == "False"
            and condition.reason == "Unschedulable"
        ):
            lines = (
                *header,
                _row("Reason", FAILED_SCHEDULING),
                _row("Message", condition.message or ""),
            )
            findings.append(Finding(FAILED_SCHEDULING, "Pod", meta.namespace, meta.name, lines))
    return findings


def event_finding(event: Any, *, since: datetime | None = None) -> Finding | None:
    """A Warning event that reports a failure, about the object it involves; one last seen
    before `since` is history (a new list brings back the events of the last hour), not news."""
    cause = EVENT_CAUSES.get(event.reason or "")
    if event.type != "Warning" or cause is None:
        return None
    seen = event.last_timestamp or event.event_time or event.first_timestamp
    if since is not None and seen is not None and seen < since:
        return None
    involved = event.involved_object
    source = event.source.component if event.source is not None else None
    reporter = source or event.reporting_component or "-"
    count = f" (x{event.count})" if event.count and event.count > 1 else ""
    lines = (
        _row("Kind", involved.kind),
        _row("Name", involved.name),
        *([_row("Namespace", involved.namespace)] if involved.namespace else []),
        "Events:",
        "  Type     Reason            From               Message",
        f"  Warning  {event.reason:<17} {reporter:<18} {event.message or ''}{count}",
    )
    return Finding(cause, involved.kind or "", involved.namespace or "", involved.name or "", lines)


def node_finding(node: Any) -> Finding | None:
    for condition in (node.status.conditions if node.status else None) or []:
        if condition.type == "Ready" and condition.status != "True":
            lines = (
                *_header("Node", node.metadata),
                "Conditions:",
                "  Type    Status  Reason                 Message",
                f"  Ready   {condition.status:<7} {condition.reason or NODE_NOT_READY:<22} "
                f"{condition.message or 'Node is not ready'}",
                _row("Reason", NODE_NOT_READY),
            )
            return Finding(NODE_NOT_READY, "Node", "", node.metadata.name, lines)
    return None


def job_finding(job: Any) -> Finding | None:
    for condition in (job.status.conditions if job.status else None) or []:
        if condition.type == "Failed" and condition.status == "True":
            status = job.status
            lines = (
                *_header("Job", job.metadata),
                _row(
                    "Pods Statuses",
                    f"{status.active or 0} Active / "
                    f"{status.succeeded or 0} Succeeded / {status.failed or 0} Failed",
                ),
                "Conditions:",
                f"  Failed  True  {condition.reason or ''}  {condition.message or ''}",
                _row("Reason", condition.reason or JOB_FAILED),
                _row("Message", condition.message or "the Job failed"),
            )
            return Finding(JOB_FAILED, "Job", job.metadata.namespace, job.metadata.name, lines)
    return None
