"""The remediator of one target system: plans actions for incidents, and carries out the ones
the policy or an operator approved (`recoverops.remediation.engine`).

`plan` is what a detector calls, and it returns at once: the actions are recorded with the
policy's decision (once per incident occurrence; a detector that asks twice finds them) and
the remediator's own loop carries them out, expires approvals that ran out, and resumes what a
dead remediator left half done once its lease runs out. An incident that recurs after a fix that
seemed to work counts against that fix (`Engine.regressed`).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from recoverops.incidents import IncidentStatus
from recoverops.observability import log_context, tracing
from recoverops.observability.setup import set_up_actor
from recoverops.remediation.engine import action_key, engine_for
from recoverops.remediation.kinds import KINDS
from recoverops.remediation.model import System
from recoverops.remediation.planner import plan_for
from recoverops.settings import Settings
from recoverops.store import Store

logger = logging.getLogger("recoverops.actors")

VERB = "remediation.planned"


def subject_of(incident_id: int) -> str:
    return f"incident:{incident_id}"


class Remediator:
    """Wrapped with `ray.remote` by the supervisor; plain Python here."""

    def __init__(self, settings: Settings, *, system: str, loop: bool = True) -> None:
        set_up_actor(settings)  # this actor's process logs and traces as `up` does
        self.system = System(system)
        self.actor = f"remediator:{system}"
        self._store = Store.open(settings, migrate=False)
        self._engine = engine_for(settings, self._store, actor=self.actor)
        self._interval = settings.remediation_poll_s
        self._stats = {"planned": 0, "runs": 0, "expired": 0, "failed_runs": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.actor, daemon=True)
        if loop:
            self._thread.start()

    def plan(
        self, incident_id: int, *, event_id: int, trace: dict[str, str] | None = None
    ) -> int | None:
        """Plan the incident's actions for the occurrence `event_id` (the policy decides each);
        the audit entry of the plan when this call created an action, None when there is no
        incident, nothing to plan, or its actions were planned already. `trace`: the
        detector's span context, which the plan's span continues.

        Idempotent by the actions' unique keys (incident, occurrence, kind, target), not by
        reading back the audit log: each action is found or created under its key in one
        transaction (`Engine.plan`), so two remediators asked about the same event, at once or
        one after the other, plan every action once, and only the one that created them records
        the plan."""
        attributes = {"recoverops.incident_id": incident_id, "recoverops.event_id": event_id}
        with (
            tracing.span("recoverops.remediate", parent=trace, attributes=attributes),
            log_context(incident_id=incident_id, event_id=event_id),
        ):
            return self._plan(incident_id, event_id=event_id)

    def _plan(self, incident_id: int, *, event_id: int) -> int | None:
        incident = self._store.get_incident(incident_id)
        if incident is None:
            return None
        event = self._store.get_event(event_id)
        specs = plan_for(
            incident, payload=None if event is None else event.payload, system=self.system
        )
        keyed = []
        for spec in specs:
            target = KINDS[spec.kind].params.model_validate(dict(spec.params)).target()
            key = action_key("incident", incident_id, incident.occurrences, spec.kind, target)
            keyed.append((spec, key))
        keys = {key for _, key in keyed}
        if keys and self._engine.actions.existing_keys(keys) == keys:
            return None  # this occurrence was planned (and its recurrence counted) already
        if incident.status is IncidentStatus.REOPENED:
            # Idempotent: only succeeded actions move to regressed, each once.
            self._engine.regressed(incident_id, detail=f"the failure recurred (event {event_id})")
        actions = []
        for spec, key in keyed:
            record, created = self._engine.plan(spec, key=key)
            if created:
                actions.append(
                    {
                        "id": record.id,
                        "kind": record.kind,
                        "target": record.target,
                        "status": record.status.value,
                    }
                )
        if not actions:
            return None
        self._stats["planned"] += len(actions)
        detail = {"event_id": event_id, "dry_run": self._engine.policy is None, "actions": actions}
        return self._store.audit(self.actor, VERB, subject=subject_of(incident_id), detail=detail)

    def step(self) -> int:
        """One round of the loop: expire overdue approvals, run what can run; how many ran."""
        self._stats["expired"] += self._engine.expire_overdue()
        ran = 0
        for action_id in self._engine.actions.claimable(system=self.system, now=datetime.now(UTC)):
            if self._stop.is_set():
                break
            with (
                tracing.span("recoverops.action", attributes={"recoverops.action_id": action_id}),
                log_context(action_id=action_id),
            ):
                if self._engine.run(action_id) is not None:
                    ran += 1
        self._stats["runs"] += ran
        return ran

    def ping(self) -> str:
        return self.actor

    def stats(self) -> dict[str, Any]:
        return {"system": self.system.value, "running": self._thread.is_alive(), **self._stats}

    def close(self) -> None:
        self._stop.set()
        self._engine.stop()
        if self._thread.is_alive():
            self._thread.join(30)
        self._store.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.step()
            except Exception:  # the store is down: say so, wait, try again
                self._stats["failed_runs"] += 1
                logger.exception("%s: a round failed", self.actor)
                ran = 0
            if not ran:
                self._stop.wait(self._interval)
