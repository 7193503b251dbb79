"""What a failure is compared with: the last passing run of the same job (its log, fetched
through the same connector as the failing one) and the files the failing commit changed.

Both come from the CI runs ingestion recorded (`recoverops.ci_runs`). Either may be unknown (no
run recorded for the event, no passing run yet, a log expired, an API that refuses): then it is
None, and the analysis goes on without it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from recoverops.connectors import JobRef, LogResult
from recoverops.connectors.changes import ChangedFiles, CommitRange
from recoverops.store import Store

logger = logging.getLogger(__name__)

Fetch = Callable[[JobRef], LogResult]


@dataclass(frozen=True, slots=True)
class Comparison:
    passing_text: str | None = None
    changed_files: list[str] | None = None


def comparison(
    store: Store, event_id: int, *, fetch: Fetch, changed_files: ChangedFiles | None
) -> Comparison:
    run = store.run_of_event(event_id)
    if run is None:
        return Comparison()
    passing = store.last_passing_run(target=run.target, before=run.finished_at)
    text = None
    if passing is not None and passing.log_project and passing.log_job:
        result = fetch(
            JobRef(source=passing.source, project=passing.log_project, job=passing.log_job)
        )
        if result.status == "ok":
            text = result.text
        else:
            logger.info("the passing run's log is unavailable: %s", result.reason)
    files = None
    if changed_files is not None and run.commit_sha and run.log_project:
        base = passing.commit_sha if passing is not None else None
        files = changed_files(
            CommitRange(source=run.source, project=run.log_project, head=run.commit_sha, base=base)
        )
    return Comparison(passing_text=text, changed_files=files)
