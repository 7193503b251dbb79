"""The remediator of one target system, in dry run: it records the plan it would execute.

One audit entry per (incident, event): a detector that asks twice (its queue entry was
reclaimed after it had already asked) finds the entry and records nothing new.
"""

from __future__ import annotations

from recoverops.settings import Settings
from recoverops.store import Store

from .plans import plan_for

VERB = "plan.dry_run"
# How far back in an incident's audit log a repeated request is recognised.
_RECENT = 200


def subject_of(incident_id: int) -> str:
    return f"incident:{incident_id}"


class Remediator:
    """Wrapped with `ray.remote` by the supervisor; plain Python here."""

    def __init__(self, settings: Settings, *, system: str) -> None:
        self.system = system
        self.actor = f"remediator:{system}"
        self._store = Store.open(settings, migrate=False)

    def plan(self, incident_id: int, *, event_id: int) -> int | None:
        """Record the dry-run plan for the incident; the audit entry's id (None: no incident)."""
        incident = self._store.get_incident(incident_id)
        if incident is None:
            return None
        subject = subject_of(incident_id)
        for entry in self._store.audit_entries(subject=subject, limit=_RECENT):
            if entry.verb == VERB and entry.detail.get("event_id") == event_id:
                return entry.id
        detail = {
            "dry_run": True,
            "event_id": event_id,
            "plan": plan_for(incident, system=self.system),
        }
        return self._store.audit(self.actor, VERB, subject=subject, detail=detail)

    def ping(self) -> str:
        return self.actor

    def close(self) -> None:
        self._store.close()
