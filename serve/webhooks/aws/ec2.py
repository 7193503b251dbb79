"""EC2: an instance that stopped or terminated (`EC2 Instance State-change Notification`).
The event does not say who stopped it: scope the EventBridge rule (docs/aws.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import field
from .common import EventRead, row

_STOPPED_STATES = frozenset({"stopped", "terminated"})


def state_change(event: Mapping[str, Any], detail: Mapping[str, Any]) -> EventRead:
    instance = field(detail, "instance-id", str)
    state = field(detail, "state", str)
    failure = state in _STOPPED_STATES
    lines = [
        row("Kind", "EC2 instance"),
        row("Instance", instance),
        row("Region", event.get("region", "")),
        row("State", state),
        row("Reason", f"EC2 instance {instance} is in an unexpected state '{state}'"),
    ]
    return EventRead(
        "ec2.state-change",
        f"ec2/{instance}",
        failure,
        cause=f"Instance{state.capitalize()}",
        subject=f"EC2 instance {instance}",
        lines=lines,
    )
