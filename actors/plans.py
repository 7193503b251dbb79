"""What a remediator would do about an incident, as data: the plan it records in dry run.

Until fix recipes and the remediation policy exist, the plan is the one decision that needs
neither: a failure of a transient kind is worth one rerun of the job, anything else goes to a
person with the analysis.
"""

from __future__ import annotations

from typing import Any

from recoverops.store import StoredIncident
from recoverops.taxonomy import Category

# Failures that a rerun often clears: the job did nothing wrong, its surroundings did.
TRANSIENT = frozenset({Category.DEPLOY_NETWORK, Category.DEPLOY_RESOURCES, Category.INFRA_INSTANCE})


def plan_for(incident: StoredIncident, *, system: str) -> dict[str, Any]:
    summary = (incident.analysis or {}).get("summary", "")
    if incident.category in TRANSIENT:
        action = {"kind": "rerun_job", "risk": "low", "why": f"{incident.category} is transient"}
    else:
        action = {"kind": "escalate", "risk": "none", "why": summary or "no automatic fix"}
    return {
        "system": system,
        "incident_id": incident.id,
        "target": incident.target,
        "category": incident.category.value,
        "occurrences": incident.occurrences,
        "actions": [action],
    }
