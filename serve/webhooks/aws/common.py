"""What every EventBridge event mapper shares: what it reads from an event, and how its
failure text is written (describe-like rows, as the Kubernetes source writes them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class EventRead:
    """What a mapper read from one event: its kind, the target its incident is of, whether it
    reports a failure, and (for a failure) the cause it is grouped by, the text analyzed and
    the workload it names (`identity`, as `recoverops.correlation.Identity.to_json` writes it;
    None when the event names none)."""

    kind: str
    target: str
    failure: bool
    cause: str = ""
    subject: str = ""
    lines: Sequence[str] = ()
    identity: Mapping[str, Any] | None = None


def row(label: str, value: object, indent: int = 0) -> str:
    """A describe-like row: values start at column 16 (20 inside a container's block)."""
    width = (20 if indent else 16) - indent
    return f"{' ' * indent}{label + ':':<{width}}{value}"


def last_name(arn: str) -> str:
    """The last part of an ARN or a name (`arn:…:cluster/prod` → `prod`)."""
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1] if arn else ""


def service_of(event: Mapping[str, Any]) -> tuple[str, str]:
    """(cluster, service) of an ECS service event, from its service ARN
    (`arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE`)."""
    resources = event.get("resources")
    arn = str(resources[0]) if isinstance(resources, list) and resources else ""
    parts = arn.split(":", 5)[-1].split("/")
    if len(parts) == 3 and parts[0] == "service":
        return parts[1], parts[2]
    return "", last_name(arn) or "?"
