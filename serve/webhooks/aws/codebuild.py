"""CodeBuild: a build that failed, faulted or timed out, with its failed phases' contexts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import field, optional_field
from .common import EventRead, last_name, row

_FAILED_BUILDS = frozenset({"FAILED", "FAULT", "TIMED_OUT"})


def build_state_change(_event: Mapping[str, Any], detail: Mapping[str, Any]) -> EventRead:
    status = field(detail, "build-status", str)
    project = field(detail, "project-name", str)
    build = last_name(optional_field(detail, "build-id", str) or "")
    lines = [
        row("Kind", "CodeBuild build"),
        row("Project", project),
        row("Build", build),
        row("Status", status),
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
        lines.append(row("Logs", f"{logs.get('group-name')} {logs.get('stream-name', '')}"))
    return EventRead(
        "codebuild.build-state-change",
        f"codebuild/{project}",
        status in _FAILED_BUILDS,
        cause=next((c for c in codes if c.isupper()), status),
        subject=f"CodeBuild build {build}",
        lines=lines,
    )
