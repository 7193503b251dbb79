"""CodePipeline: a pipeline execution that failed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import field, optional_field
from .common import EventRead, row


def execution_state_change(_event: Mapping[str, Any], detail: Mapping[str, Any]) -> EventRead:
    state = field(detail, "state", str)
    pipeline = field(detail, "pipeline", str)
    execution = optional_field(detail, "execution-id", str) or ""
    lines = [
        row("Kind", "CodePipeline execution"),
        row("Pipeline", pipeline),
        row("Execution", execution),
        row("State", state),
        f"CodePipeline pipeline {pipeline} execution {execution} failed: state {state}",
    ]
    return EventRead(
        "codepipeline.execution-state-change",
        f"codepipeline/{pipeline}",
        state == "FAILED",
        cause="ExecutionFailed",
        subject=f"CodePipeline execution {execution}",
        lines=lines,
    )
