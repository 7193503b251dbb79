"""CodeDeploy: a deployment that failed (the event names no reason)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import field, optional_field
from . import identity
from .common import EventRead, row


def deployment_state_change(_event: Mapping[str, Any], detail: Mapping[str, Any]) -> EventRead:
    state = field(detail, "state", str)
    deployment = field(detail, "deploymentId", str)
    application = optional_field(detail, "application", str) or ""
    group = optional_field(detail, "deploymentGroup", str) or ""
    lines = [
        row("Kind", "CodeDeploy deployment"),
        row("Application", application),
        row("Group", group),
        row("Deployment", deployment),
        row("State", state),
        f"CodeDeploy deployment {deployment} of {application} to {group} failed: state {state}",
    ]
    return EventRead(
        "codedeploy.deployment-state-change",
        f"codedeploy/{application}/{group}",
        state == "FAILURE",
        cause="DeploymentFailed",
        subject=f"CodeDeploy deployment {deployment}",
        lines=lines,
        identity=identity.codedeploy(application, group),
    )
