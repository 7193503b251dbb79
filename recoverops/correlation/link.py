"""Putting a failure down to a deploy, in either order they arrive.

    a failure's incident stored ─► `after_failure`: the deploys of the window before it was
        first seen (and those already linked to it) that deployed its workload ─► linked
    a deploy recorded ─► `after_deploy`: the watched failures first seen in the window after
        it whose workload it deployed ─► linked (the deploy's webhook came late)

A deploy is never blamed for a failure first seen before it: that failure was already there.
Linking rewrites the incident's root cause to name the deploy (its diagnosed root cause kept
after it) and appends the deploy to its evidence; the incident's own evidence stays first. A
later occurrence that brings a fresh analysis is linked again from the stored links.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from recoverops.correlation.deploys import Deploy, recognise
from recoverops.correlation.matching import CorrelationRules, Identity, match
from recoverops.incidents import Source
from recoverops.store import Store, StoredDeploy, StoredEvent, StoredIncident

logger = logging.getLogger("recoverops.correlation")

# The CI systems: their failures are jobs, not workloads a deploy can break.
CI_SOURCES = (Source.GITHUB.value, Source.GITLAB.value, Source.JENKINS.value, Source.CLI.value)
CORRELATION_KEY = "correlation"
ROOT_CAUSE_KEY = "root_cause"
# How sure a deploy-then-crash root cause is: the order and the workload match, not the diff.
DEPLOY_CONFIDENCE = 0.7


class Correlator:
    def __init__(self, store: Store, rules: CorrelationRules) -> None:
        self._store = store
        self._rules = rules

    def after_failure(
        self, incident_id: int, identity: Identity, *, at: datetime | None = None
    ) -> list[StoredDeploy]:
        """Link the incident to the deploys that deployed `identity`'s workload in the window
        before the failure (`at`; by default when the incident was first seen: a failure
        merged into another side's incident gives its own time); the deploys newly linked."""
        incident = self._store.get_incident(incident_id)
        if incident is None:
            return []
        failed_at = at or incident.first_seen
        start = failed_at - self._rules.window
        found = self._store.deploys_between(start=start, end=failed_at)
        known = self._store.deploys_of_incident(incident_id)
        candidates = {d.id: d for d in [*known, *found]}
        links = [
            (deploy.id, why)
            for deploy in candidates.values()
            if deploy.at <= failed_at
            and (why := match(_as_deploy(deploy), identity, self._rules)) is not None
        ]
        return self._link(incident, links, failed_at=failed_at)

    def after_deploy(self, deploy: StoredDeploy) -> list[int]:
        """Link the watched failures first seen in the window after `deploy` whose workload it
        deployed; the incidents it was newly linked to."""
        occurrences = self._store.watched_occurrences(
            not_sources=CI_SOURCES, start=deploy.at, end=deploy.at + self._rules.window
        )
        linked: list[int] = []
        seen: set[int] = set()
        for occurrence in occurrences:
            identity = Identity.from_json(occurrence.identity)
            if identity is None or occurrence.incident_id in seen:
                continue
            seen.add(occurrence.incident_id)
            incident = self._store.get_incident(occurrence.incident_id)
            if incident is None or incident.first_seen < deploy.at:
                continue
            if match(_as_deploy(deploy), identity, self._rules) is None:
                continue
            if self.after_failure(incident.id, identity):
                linked.append(incident.id)
        return linked

    def merged_into(
        self, event: StoredEvent, *, fingerprint: str, identity: Identity | None
    ) -> int | None:
        """The incident this event's failure joins instead of opening its own, when it is one
        side of a failed deploy and the crash it caused and the other side has an incident:

        - a watched failure of a workload a failed deploy of the window deployed joins the
          deploy job's incident;
        - a failed deploy job whose deploy was already linked to a crash (its webhook came
          late, `after_deploy`) joins the crash's incident.

        None when the failure has an incident of its own already (it stays there) or no other
        side has one."""
        if self._store.incidents_by_fingerprint([fingerprint]):
            return None
        if identity is not None:
            return self._failed_deploy_incident(identity, event.received_at)
        deploy = _recognised(event)
        if deploy is None or not deploy.failed:
            return None
        marker = self._store.find_deploy(deploy.source, deploy.key)
        return None if marker is None else marker.incident_id

    def _failed_deploy_incident(self, identity: Identity, seen_at: datetime) -> int | None:
        window = self._store.deploys_between(start=seen_at - self._rules.window, end=seen_at)
        for deploy in window:  # newest first
            if not deploy.failed or match(_as_deploy(deploy), identity, self._rules) is None:
                continue
            if deploy.incident_id is not None:  # the deploy job's own incident (`after_ci`)
                return deploy.incident_id
            event = None if deploy.event_id is None else self._store.get_event(deploy.event_id)
            if event is not None and event.incident_id is not None:
                return event.incident_id
        return None

    def after_ci_failure(self, event: StoredEvent, incident_id: int) -> None:
        """A failed deploy job's own incident is the deploy's, until a crash is put down to it:
        so a crash of what it deployed finds it, whichever of the run's deliveries (the job's,
        its workflow run's) the marker was last updated by."""
        deploy = _recognised(event)
        if deploy is None or not deploy.failed:
            return
        self._store.set_deploy_incident(deploy.source, deploy.key, incident_id)

    def _link(
        self, incident: StoredIncident, links: list[tuple[int, str]], *, failed_at: datetime
    ) -> list[StoredDeploy]:
        if not links:
            return []

        def compose(
            analysis: dict[str, Any] | None,
            evidence: list[dict[str, Any]],
            deploys: list[tuple[StoredDeploy, str]],
        ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            return correlated(analysis, evidence, deploys, failed_at=failed_at)

        new = self._store.link_deploys(incident.id, links=links, compose=compose)
        for deploy in new:
            logger.info("incident %s put down to %s", incident.id, deploy.describe())
        return new


def correlated(
    analysis: Mapping[str, Any] | None,
    evidence: list[dict[str, Any]],
    deploys: list[tuple[StoredDeploy, str]],
    *,
    failed_at: datetime,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The incident's analysis with the deploys as its likely root cause, and its evidence with
    theirs appended. Recomposing an already correlated analysis gives the same result."""
    out = dict(analysis or {})
    before = out.get(CORRELATION_KEY)
    diagnosed = before.get("diagnosed") if isinstance(before, Mapping) else None
    if not isinstance(diagnosed, Mapping):
        diagnosed = {"root_cause": out.get(ROOT_CAUSE_KEY), "summary": out.get("summary")}
    # The most recent deploy before the failure is the likeliest.
    ordered = sorted(deploys, key=lambda item: item[0].at, reverse=True)
    lead, lead_why = ordered[0]
    minutes = max(0.0, (failed_at - lead.at).total_seconds() / 60)
    explanation = (
        f"Likely caused by {lead.describe()}, {minutes:.0f} min before the failure was "
        f"first seen: {lead_why}."
    )
    cause = diagnosed.get("root_cause")
    cause = cause if isinstance(cause, Mapping) else {}
    components = [
        {
            "kind": "deploy",
            "name": f"{deploy.source}:{deploy.repository}:{deploy.name}",
            "file": None,
            "line": None,
            "detail": f"{deploy.describe()}; {why}",
            "tool": deploy.source,
            "log_line": None,
        }
        for deploy, why in ordered
    ]
    out[ROOT_CAUSE_KEY] = {
        "components": [*components, *(cause.get("components") or [])],
        "explanation": " ".join(
            part for part in (explanation, str(cause.get("explanation") or "")) if part
        ),
        "confidence": max(DEPLOY_CONFIDENCE, float(cause.get("confidence") or 0.0)),
        "deploy": _deploy_json(lead, lead_why),
    }
    summary = diagnosed.get("summary")
    out["summary"] = f"{summary}; likely caused by {lead.describe()}" if summary else explanation
    out[CORRELATION_KEY] = {
        "deploys": [_deploy_json(deploy, why) for deploy, why in ordered],
        "diagnosed": dict(diagnosed),
    }
    own = [e for e in evidence if "deploy_id" not in e]
    theirs = [
        {"line": None, "text": f"deploy: {deploy.describe()}", "deploy_id": deploy.id, "why": why}
        for deploy, why in ordered
    ]
    return out, [*own, *theirs]


def _deploy_json(deploy: StoredDeploy, why: str) -> dict[str, Any]:
    return {
        "id": deploy.id,
        "source": deploy.source,
        "repository": deploy.repository,
        "name": deploy.name,
        "environment": deploy.environment,
        "status": deploy.status,
        "at": deploy.at.isoformat(),
        "event_id": deploy.event_id,
        "why": why,
    }


def _recognised(event: StoredEvent) -> Deploy | None:
    """The deploy a CI event reports, read from its stored payload as ingestion read it."""
    payload = event.payload if isinstance(event.payload, Mapping) else {}
    body = payload.get("body")
    if not isinstance(body, Mapping):
        return None
    return recognise(event.source.value, event.kind, body, at=event.received_at)


def _as_deploy(stored: StoredDeploy) -> Deploy:
    return Deploy(
        source=stored.source,
        key=stored.key,
        repository=stored.repository,
        name=stored.name,
        environment=stored.environment,
        status=stored.status,
        why=stored.why,
        hints=stored.hints,
        at=stored.at,
    )


def record_deploy(
    store: Store, rules: CorrelationRules, deploy: Deploy, *, event_id: int | None
) -> tuple[StoredDeploy, list[int]]:
    """Store the deploy's marker and link the failures that came before its webhook did."""
    stored = store.record_deploy(deploy, event_id=event_id)
    return stored, Correlator(store, rules).after_deploy(stored)
