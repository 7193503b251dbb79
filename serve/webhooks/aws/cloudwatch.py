"""CloudWatch: an alarm that went into ALARM, written as AWS's alarm notifications start
(`ALARM: "name" …`) with the metric it watches (EC2 status checks arrive this way)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import field, optional_field
from . import identity
from .common import EventRead, row


def alarm_state_change(event: Mapping[str, Any], detail: Mapping[str, Any]) -> EventRead:
    name = field(detail, "alarmName", str)
    state = field(detail, "state.value", str)
    reason = optional_field(detail, "state.reason", str) or ""
    previous = optional_field(detail, "previousState.value", str) or ""
    namespace, metric, dimensions = "", "", ""
    named: Mapping[str, Any] = {}
    config = detail.get("configuration")
    metrics = config.get("metrics") if isinstance(config, Mapping) else None
    for entry in metrics if isinstance(metrics, list) else []:
        stat = entry.get("metricStat") if isinstance(entry, Mapping) else None
        found = stat.get("metric") if isinstance(stat, Mapping) else None
        if isinstance(found, Mapping):
            namespace, metric = str(found.get("namespace", "")), str(found.get("name", ""))
            dims = found.get("dimensions")
            if isinstance(dims, Mapping):
                named = dims
                dimensions = ", ".join(f"{k}={v}" for k, v in sorted(dims.items()))
            break
    lines = [
        f'{state}: "{name}" on {namespace} {metric} in {event.get("region", "")}'.rstrip(),
        row("Alarm", name),
        row("Metric", f"{namespace} {metric}".strip()),
        *([row("Dimensions", dimensions)] if dimensions else []),
        row("State", f"{previous} -> {state}"),
        row("Reason", reason),
    ]
    return EventRead(
        "cloudwatch.alarm-state-change",
        f"alarm/{name}",
        state == "ALARM",
        cause=metric or "Alarm",
        subject=f"CloudWatch alarm {name}",
        lines=lines,
        identity=identity.alarm(named),
    )
