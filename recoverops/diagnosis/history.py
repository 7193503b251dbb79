"""What the incident's history says about a failure: new, or recurring and how often.

It reads the analyzer's context (`recoverops.actors.analyzer.incident_context`), which the store's
incident history fills. `flaky` (the same job or test passed and failed on one commit) and
`broken_trunk` (the same failure on the default branch within 7 days) need the commit and branch
of each run, which the store does not keep yet: they are None, "not known", never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def history(context: Mapping[str, Any]) -> dict[str, Any]:
    occurrences = int(context.get("occurrences") or 1)
    elsewhere = context.get("same_failure_elsewhere") or []
    return {
        "status": "recurring" if occurrences > 1 else "new",
        "occurrences": occurrences,
        "first_seen": context.get("first_seen"),
        "same_failure_on_other_targets": len(elsewhere),
        "flaky": None,
        "broken_trunk": None,
    }
