"""A failure is often found flaky only afterwards: its job is re-run on the same commit and passes.

The analyzer judges a failure when it happens (`diagnosis.history`); when a passing run of the
same job on the same commit arrives later, ingestion calls `reconsider`, which marks the
incidents of the failed runs on that commit flaky: the history says so and why, and the fix
becomes a rerun. It is recorded as a stage of each incident (timeline and audit entry, verb
`incident.flaky`), once per (incident, passing event), in one store transaction each.
"""

from __future__ import annotations

from typing import Any

from recoverops.diagnosis.history import NEVER_FLAKY, rerun_fix
from recoverops.store import Store

ACTOR = "analyzer"
VERB = "incident.flaky"
CONTEXT_KEY = "context"


def reconsider(store: Store, event_id: int) -> list[int]:
    """Mark flaky the incidents of the failed runs on the passing run `event_id`'s commit; the
    ids of the incidents this call marked."""
    run = store.run_of_event(event_id)
    if run is None or run.outcome != "passed" or run.commit_sha is None:
        return []
    job = run.target.rsplit(":", 1)[-1].lower()
    if any(word in job for word in NEVER_FLAKY):
        return []
    marked: list[int] = []
    failed = [
        r
        for r in store.runs_on_commit(target=run.target, commit_sha=run.commit_sha)
        if r.outcome == "failed" and r.incident_id is not None
    ]
    for incident_id in dict.fromkeys(r.incident_id for r in failed if r.incident_id):
        incident = store.get_incident(incident_id)
        analysis = incident.analysis if incident is not None else None
        context = (analysis or {}).get(CONTEXT_KEY)
        if incident is None or analysis is None or not isinstance(context, dict):
            continue  # not analyzed yet: the analyzer will see this passing run itself
        found = dict(context.get("history") or {})
        if found.get("flaky") is True:
            continue
        same_run = [r for r in failed if r.incident_id == incident_id and r.run_key == run.run_key]
        why = (
            f"attempt {run.attempt or '?'} of run {run.run_key} passed after attempt"
            f" {same_run[0].attempt or '?'} failed"
            if same_run and run.run_key is not None
            else f"run {run.run_key or run.event_id} passed later on the same commit"
        )
        found.update(
            flaky=True,
            flaky_evidence=[*(found.get("flaky_evidence") or []), why][-5:],
            commit=run.commit_sha,
        )
        if found.get("status") != "broken-trunk":  # Dr. CI: broken trunk is decided first
            found["status"] = "flaky"
        merge: dict[str, Any] = {}
        root_cause = analysis.get("root_cause")
        if isinstance(root_cause, dict):
            merge["root_cause"] = {**root_cause, "history": found}
        fix = analysis.get("fix")
        merge["fix"] = rerun_fix(found, fix if isinstance(fix, dict) else None).to_json()
        record = store.record_stage(
            incident_id,
            event_id=event_id,
            actor=ACTOR,
            verb=VERB,
            key=CONTEXT_KEY,
            result={**context, "history": found},
            detail=f"flaky: {why}",
            stage="history",
            merge=merge,
        )
        if record is not None and record.recorded:
            marked.append(incident_id)
    return marked
