"""The analyzer: takes a detected incident through the analyze stage.

    incident stored (open) ─► context from history ─► analysis["context"], timeline, audit
                                                   ─► analyzed (when its log was analyzed)

Root cause and fix proposals are a later stage's work (issue #5); today the stage computes the
incident's context from the store's history, and records exactly that:

    occurrences, first_seen, last_seen   this fingerprint's history
    same_failure_elsewhere               incidents on other targets with this failure's
                                         signature: the same category and failure-chunk
                                         templates (the fingerprint without its target)
    other_incidents_of_target            how many other incidents the same job has (capped)
    history                              broken-trunk, flaky, recurring (how often, the last
                                         fix and its outcome) or new, from the occurrence's CI
                                         run (`diagnosis.history`); also put on the stored
                                         root cause, and a flaky failure's fix becomes a rerun
    signature                            whether the signature could be read back: the
                                         templates recomputed from the stored evidence
                                         reproduce the incident's fingerprint

An incident whose log was analyzed moves to `analyzed`; one whose log was unavailable moves to
`logs_unavailable` (its summary says why), where the detector retries its log (`log_retry`) and
takes it through this stage again when the log comes; a later occurrence of an analyzed
incident gets a `context` entry. Everything is one store transaction, once per (incident,
event), so a retried message (a reclaimed queue entry) records nothing twice. The audit entry
keeps when the incident was stored (`started_at`), which is what the analyze stage's latency
metric reads.
"""

from __future__ import annotations

import threading
from typing import Any

from recoverops.analysis import Analysis
from recoverops.diagnosis.history import TRUNK_WINDOW, RunHistory, history, rerun_fix
from recoverops.incidents import IncidentStatus, fingerprint
from recoverops.logs.templates import mask, template_id
from recoverops.observability import log_context, tracing
from recoverops.observability.setup import set_up_actor
from recoverops.settings import Settings
from recoverops.store import StageRecord, Store, StoredIncident
from recoverops.store.history import STARTED_AT
from recoverops.store.incident_pages import MAX_PAGE_SIZE
from recoverops.store.stages import ANALYZED_VERB

ACTOR = "analyzer"
# The audit verb of the analyze stage of a log that came on a retry.
LOG_RETRIED_VERB = "incident.log_retried"
CONTEXT_KEY = "context"
CONTEXT_STAGE = "context"
# How many related incidents the context lists, and how many targets of a category it compares.
MAX_LISTED = 10
MAX_TARGETS = 500


def analyze_incident(
    store: Store, incident_id: int, *, event_id: int, verb: str = ANALYZED_VERB
) -> StageRecord | None:
    """Record the analyze stage of `incident_id` for the occurrence `event_id` (None: no such
    incident), once per (incident, event, `verb`): a log fetched on a retry is analyzed under a
    verb of its own (`LOG_RETRIED_VERB`) for the same event."""
    incident = store.get_incident(incident_id)
    if incident is None:
        return None
    event = store.get_event(event_id)
    stored_at = None if event is None else event.processed_at
    context = incident_context(store, incident, event_id=event_id)
    log_analyzed = _log_analyzed(incident)
    return store.record_stage(
        incident_id,
        event_id=event_id,
        actor=ACTOR,
        verb=verb,
        key=CONTEXT_KEY,
        result=context,
        stage=CONTEXT_STAGE,
        detail=_detail(incident, context),
        move_to=IncidentStatus.ANALYZED if log_analyzed else IncidentStatus.LOGS_UNAVAILABLE,
        audit_extra=None if stored_at is None else {STARTED_AT: stored_at.isoformat()},
        merge=history_aware(incident, context["history"]),
    )


def incident_context(
    store: Store, incident: StoredIncident, *, event_id: int | None = None
) -> dict[str, Any]:
    """What the store's history says about the incident (see the module docstring); with the
    occurrence's `event_id`, what its CI run says too (flaky, broken trunk, the last fix)."""
    templates = failure_templates(incident)
    elsewhere: list[dict[str, Any]] = []
    if templates:
        targets = [
            target
            for target in store.incident_targets(category=incident.category, limit=MAX_TARGETS)
            if target != incident.target
        ]
        fingerprints = [fingerprint(target=target, template_ids=templates) for target in targets]
        elsewhere = [
            {
                "incident_id": other.id,
                "target": other.target,
                "status": other.status.value,
                "occurrences": other.occurrences,
                "last_seen": other.last_seen.isoformat(),
            }
            for other in store.incidents_by_fingerprint(fingerprints)[:MAX_LISTED]
        ]
    same_target = store.list_incidents(target=incident.target, limit=MAX_PAGE_SIZE).items
    context = {
        "occurrences": incident.occurrences,
        "first_seen": incident.first_seen.isoformat(),
        "last_seen": incident.last_seen.isoformat(),
        "signature": "verified" if templates else "unavailable",
        "same_failure_elsewhere": elsewhere,
        "other_incidents_of_target": len([i for i in same_target if i.id != incident.id]),
    }
    runs = run_history(store, incident, event_id=event_id)
    return {**context, "history": history(context, runs)}


def run_history(store: Store, incident: StoredIncident, *, event_id: int | None) -> RunHistory:
    """The occurrence's CI run and the runs it is judged against; its failing tests are kept
    on the run, so that a later failure on the same commit can tell which tests flipped."""
    run = None if event_id is None else store.run_of_event(event_id)
    tests = failing_tests(incident)
    if run is None:
        return RunHistory(run=None, last_fix=store.last_fix(incident.id), failing_tests=tests)
    if tests:
        store.set_run_tests(run.event_id, tests)
    same_commit = (
        store.runs_on_commit(target=run.target, commit_sha=run.commit_sha) if run.commit_sha else []
    )
    same_failure = store.failed_runs_with(
        incident_id=incident.id,
        target=run.target,
        since=run.finished_at - TRUNK_WINDOW,
        until=run.finished_at,
    )
    return RunHistory(
        run=run,
        same_commit=same_commit,
        same_failure=same_failure,
        last_fix=store.last_fix(incident.id),
        failing_tests=tests,
    )


def failing_tests(incident: StoredIncident) -> tuple[str, ...]:
    """The test ids the stored root cause names."""
    root_cause = (incident.analysis or {}).get("root_cause")
    components = root_cause.get("components") if isinstance(root_cause, dict) else None
    if not isinstance(components, list):
        return ()
    return tuple(
        str(c["name"])
        for c in components
        if isinstance(c, dict) and c.get("kind") == "test" and c.get("name")
    )


def history_aware(incident: StoredIncident, found: dict[str, Any]) -> dict[str, Any]:
    """The analysis keys the history changes: the root cause carries it, and a flaky failure's
    fix becomes a rerun instead of a code change."""
    analysis = incident.analysis or {}
    root_cause = analysis.get("root_cause")
    merged: dict[str, Any] = {}
    if isinstance(root_cause, dict):
        merged["root_cause"] = {**root_cause, "history": found}
    if found.get("flaky"):
        fix = analysis.get("fix")
        merged["fix"] = rerun_fix(found, fix if isinstance(fix, dict) else None).to_json()
    return merged


def past_incidents(store: Store, analysis: Analysis) -> list[dict[str, Any]]:
    """The incidents with this analysis's failure signature on any target (the same failure
    recurring on this job, or seen on others), most recently seen first, each with the fix
    proposed for it: what the optional LLM is shown beside the failure (`diagnosis.llm`).
    Read before the occurrence is stored, so the failure's own incident is among them when it
    recurs."""
    if not analysis.templates:
        return []
    targets = store.incident_targets(category=analysis.category, limit=MAX_TARGETS)
    fingerprints = [fingerprint(target=t, template_ids=analysis.templates) for t in targets]
    return [
        {
            "target": past.target,
            "status": past.status.value,
            "occurrences": past.occurrences,
            "last_seen": past.last_seen.isoformat(),
            "fix": _fix_summary((past.analysis or {}).get("fix")),
        }
        for past in store.incidents_by_fingerprint(fingerprints)[:MAX_LISTED]
    ]


def _fix_summary(fix: object) -> dict[str, Any] | None:
    if not isinstance(fix, dict):
        return None
    return {
        "kind": fix.get("kind"),
        "files": list(fix.get("files") or [])[:3],
        "explanation": str(fix.get("explanation") or "")[:200],
    }


def failure_templates(incident: StoredIncident) -> frozenset[str]:
    """The failure chunk's template ids, recomputed from the stored evidence as the detector
    computed them; empty when there is no evidence or they do not reproduce the fingerprint."""
    texts = [e.get("text") for e in incident.evidence]
    templates = frozenset(template_id(mask(t)) for t in texts if isinstance(t, str))
    if not templates:
        return frozenset()
    again = fingerprint(target=incident.target, template_ids=templates)
    return templates if again == incident.fingerprint else frozenset()


def _log_analyzed(incident: StoredIncident) -> bool:
    analysis = incident.analysis or {}
    return analysis.get("log_format") not in (None, "none")


def _detail(incident: StoredIncident, context: dict[str, Any]) -> str:
    # Unanalyzed, the summary is why the log was unavailable: what the logs_unavailable entry says.
    summary = (incident.analysis or {}).get("summary")
    seen = (
        "first occurrence"
        if incident.occurrences == 1
        else f"occurrence {incident.occurrences} since {incident.first_seen:%Y-%m-%d %H:%M} UTC"
    )
    others = context["same_failure_elsewhere"]
    if others:
        names = ", ".join(o["target"] for o in others[:3])
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        spread = f"; the same failure on {len(others)} other target(s): {names}{more}"
    elif context["signature"] == "verified":
        spread = "; not seen on other targets"
    else:
        spread = ""
    return f"{summary + '; ' if summary else ''}{seen}{spread}"


class Analyzer:
    """Wrapped with `ray.remote` by the supervisor; plain Python here."""

    def __init__(self, settings: Settings) -> None:
        set_up_actor(settings)  # this actor's process logs and traces as `up` does
        self._store = Store.open(settings, migrate=False)
        self._stats = {"analyzed": 0, "repeat": 0, "missing": 0}
        self._lock = threading.Lock()  # the supervisor lets a few calls run at once

    def analyze(
        self, incident_id: int, *, event_id: int, trace: dict[str, str] | None = None
    ) -> int | None:
        """Take the incident through the analyze stage; its audit entry's id (None: no incident).
        `trace`: the detector's span context, which this stage's span continues."""
        attributes = {"recoverops.incident_id": incident_id, "recoverops.event_id": event_id}
        with (
            tracing.span("recoverops.analyze", parent=trace, attributes=attributes),
            log_context(incident_id=incident_id, event_id=event_id),
        ):
            return self._analyze(incident_id, event_id=event_id)

    def _analyze(self, incident_id: int, *, event_id: int) -> int | None:
        record = analyze_incident(self._store, incident_id, event_id=event_id)
        outcome = "missing" if record is None else "analyzed" if record.recorded else "repeat"
        with self._lock:
            self._stats[outcome] += 1
        return None if record is None else record.audit_id

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._stats)

    def ping(self) -> str:
        return ACTOR

    def close(self) -> None:
        self._store.close()
