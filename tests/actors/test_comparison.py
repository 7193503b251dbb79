"""A failure is compared with the last passing run of its job, as the detector does it: the
passing run recorded at ingestion (PostgreSQL), its log read through the connectors (placed logs,
the same base runner as a download), the failing commit's changed files from a local GitHub."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from recoverops.actors import analyze_incident, process_event
from recoverops.actors.comparison import comparison
from recoverops.analysis import Analysis
from recoverops.connectors import JobRef, LogResult, fetch_log, log_sources
from recoverops.connectors.changes import ApiChangedFiles
from recoverops.connectors.placed import placed_path
from recoverops.detector import analyze_text
from recoverops.diagnosis import diagnose
from recoverops.serve.services import QueueHandle
from recoverops.settings import Settings
from recoverops.store import Store
from tests.actors.test_run_history import deliver, pg_store, run_body
from tests.connectors.fake_server import Reply, running
from tests.unit.logs.test_what_changed import FAILING, PASSING

__all__ = ["pg_store"]

PASSING_SHA = "a1" * 20
FAILING_SHA = "b2" * 20


def place(home: Path, job: str, text: str) -> None:
    path = placed_path(home, JobRef(source="github", project="Codertocat/Hello-World", job=job))
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_failure_says_its_new_lines_and_the_commits_changed_files(
    pg_store: tuple[Store, QueueHandle], postgresql_settings: Settings, tmp_path: Path
) -> None:
    store, queue = pg_store
    home = tmp_path / "home"
    place(home, "101", PASSING)
    place(home, "102", FAILING)
    settings = postgresql_settings.model_copy(update={"home": home})
    fetch = partial(fetch_log, sources=log_sources(settings))
    compare = {"files": [{"filename": "payments/refunds.py", "status": "modified"}]}
    with running() as github:
        github.route(
            f"/repos/Codertocat/Hello-World/compare/{PASSING_SHA}...{FAILING_SHA}",
            Reply(200, json.dumps(compare).encode()),
        )
        changed_files = ApiChangedFiles(github_api_url=github.url)
        deliver(
            store,
            queue,
            run_body(sha=PASSING_SHA, branch="master", run_id=1, passed=True, job_id=101),
        )
        failed = deliver(
            store,
            queue,
            run_body(sha=FAILING_SHA, branch="refunds", run_id=2, passed=False, job_id=102),
        )
        against = comparison(store, failed, fetch=fetch, changed_files=changed_files)

    assert against.passing_text is not None and "214 passed" in against.passing_text
    assert against.changed_files == ["payments/refunds.py"]

    def analyze(text: str) -> Analysis:  # as the detector's _analyze_log does
        analysis = analyze_text(text, passing_text=against.passing_text)
        return diagnose(
            analysis,
            text=text,
            passing_text=against.passing_text,
            changed_files=against.changed_files,
        )

    outcome = process_event(store, failed, fetch=fetch, analyze=analyze)
    assert outcome.incident_id is not None
    analyze_incident(store, outcome.incident_id, event_id=failed)
    incident = store.get_incident(outcome.incident_id)
    assert incident is not None and incident.analysis is not None
    changed = incident.analysis["root_cause"]["what_changed"]
    assert changed["changed_files"] == ["payments/refunds.py"]
    assert any("assert 0 == 30" in line["text"] for line in changed["new_lines"])
    assert not any("test session starts" in line["text"] for line in changed["new_lines"])
    assert incident.analysis["root_cause"]["history"]["status"] == "new"


def test_without_a_passing_run_nothing_is_fetched(
    pg_store: tuple[Store, QueueHandle], postgresql_settings: Settings, tmp_path: Path
) -> None:
    store, queue = pg_store
    asked: list[JobRef] = []

    def fetch(ref: JobRef) -> LogResult:
        asked.append(ref)
        raise AssertionError("no passing run: nothing to fetch")

    failed = deliver(
        store,
        queue,
        run_body(sha=FAILING_SHA, branch="refunds", run_id=3, passed=False, job_id=103),
    )
    against = comparison(store, failed, fetch=fetch, changed_files=None)
    assert against.passing_text is None and against.changed_files is None and asked == []
