"""The steps of a CI job and the failing one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from recoverops.analysis import Step


def failing_step(steps: Sequence[Step]) -> Step | None:
    """The step that failed first; a log whose steps show no failure failed in its last step."""
    for step in steps:
        if step.failed:
            return step
    return replace(steps[-1], failed=True) if steps else None
