"""The incident store as a dataset: real fixture logs processed as the detector does, then
feedback, then the frame."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from recoverops.actors import process_event
from recoverops.connectors import JobRef, LogResult
from recoverops.detector import analyze_text
from recoverops.incidents import Event, Source
from recoverops.models.features import FEATURE_COLUMNS, feature_row
from recoverops.store import Store
from recoverops.taxonomy import Category
from recoverops.training.datasets import COLUMNS, dataset_card, labelled, split_sides
from recoverops.training.incident_data import incident_data, incidents_frame, project_of
from tests.serve.harness import CASES

SEEN = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def log_of(case: str) -> str:
    return (CASES / case / "log.txt").read_bytes().decode("utf-8", errors="replace")


def failed_job(store: Store, repository: str, job: str, *, job_id: int) -> int:
    """A GitHub workflow_job failure stored as ingestion stores it; its event id."""
    body: dict[str, Any] = {
        "action": "completed",
        "repository": {"full_name": repository},
        "workflow_job": {"id": job_id, "name": job, "workflow_name": "CI"},
    }
    event = Event(Source.GITHUB, "workflow_job.completed", str(uuid.uuid4()), SEEN, "inline")
    payload = {"failure": True, "target": f"{repository}:CI/{job}", "body": body}
    return store.add_event(event, payload=payload).event_id


def processed(store: Store, repository: str, job: str, case: str | None, *, job_id: int) -> int:
    """The incident process_event makes of the job, whose log is the fixture `case` (None: the
    log could not be fetched)."""

    def fetch(_ref: JobRef) -> LogResult:
        if case is None:
            return LogResult.unavailable("GitHub answered 410 (logs expired)")
        return LogResult(status="ok", text=log_of(case))

    event_id = failed_job(store, repository, job, job_id=job_id)
    outcome = process_event(store, event_id, fetch=fetch, analyze=analyze_text)
    incident_id: int | None = outcome.incident_id
    assert incident_id is not None
    return incident_id


def test_labelled_incidents_become_rows_with_the_stored_features(store: Store) -> None:
    surefire = processed(store, "octo/app", "test", "plain-maven-surefire-failure", job_id=1)
    flake8 = processed(store, "octo/app", "lint", "plain-flake8", job_id=2)
    tsc = processed(store, "acme/web", "build", "plain-tsc-type-errors", job_id=3)
    unjudged = processed(store, "acme/web", "go", "travis-go-test-fail", job_id=4)
    no_log = processed(store, "acme/api", "deploy", None, job_id=5)
    add = store.add_feedback
    add(surefire, category=Category.BUILD_TEST, fix_outcome="worked", operator="alice")
    add(flake8, category=Category.BUILD_TEST, fix_outcome=None, operator="bob")
    add(flake8, category=Category.BUILD_LINT, fix_outcome=None, operator="carol")  # corrected
    add(tsc, category=Category.BUILD_COMPILATION, fix_outcome=None, operator="alice")
    add(unjudged, category=None, fix_outcome="failed", operator="alice")  # no label
    add(no_log, category=Category.DEPLOY_NETWORK, fix_outcome=None, operator="alice")

    data = incident_data(store)
    frame = data.frame

    assert list(frame.columns) == list(COLUMNS)
    assert data.skipped == 1  # the incident whose log was never analyzed
    assert list(frame["example_id"]) == [f"incident/{i}" for i in (surefire, flake8, tsc)]
    assert list(frame["project"]) == ["octo/app", "octo/app", "acme/web"]
    assert set(frame["source"]) == {"incidents"}
    assert list(frame["label"]) == ["build.test", "build.lint", "build.compilation"]
    # Exactly what the detector makes of the log: a model trained on this sees what it serves.
    expected = feature_row(analyze_text(log_of("plain-flake8")))
    row = frame.set_index("example_id").loc[f"incident/{flake8}"]
    assert {column: row[column] for column in FEATURE_COLUMNS} == expected
    assert row["rule_category"] == "build.lint"

    pd.testing.assert_frame_equal(incidents_frame(store), frame)
    assert len(labelled(frame, ["build.test", "build.lint"])) == 2
    card = dataset_card(frame)
    assert card["by_source"] == {"incidents": 3}
    assert card["projects"] == 2
    sides = split_sides(frame)
    projects = [set(part["project"]) for part in sides.values()]
    assert all(not a & b for i, a in enumerate(projects) for b in projects[i + 1 :])
    assert sum(len(part) for part in sides.values()) == 3


def test_an_empty_store_is_an_empty_frame_with_the_columns(store: Store) -> None:
    data = incident_data(store)

    assert data.frame.empty and data.skipped == 0
    assert list(data.frame.columns) == list(COLUMNS)


def test_a_stale_feature_row_is_skipped_and_counted(store: Store) -> None:
    analysis = analyze_text(log_of("plain-flake8"))
    stale = {k: v for k, v in feature_row(analysis).items() if k != "templates"}
    upsert = store.upsert_incident(
        "fp-stale",
        target="github:octo/app:CI/lint",
        category=analysis.category,
        source=Source.GITHUB,
        seen_at=SEEN,
        analysis=analysis,
        features=stale,
    )
    store.add_feedback(
        upsert.incident.id, category=Category.BUILD_LINT, fix_outcome=None, operator="a"
    )

    data = incident_data(store)

    assert data.frame.empty and data.skipped == 1


def test_the_project_is_the_repository_the_target_names() -> None:
    assert project_of("github:octo/app:CI/test", Source.GITHUB) == "octo/app"
    assert project_of("gitlab:group/sub/proj:test/unit", Source.GITLAB) == "group/sub/proj"
    assert project_of("gitlab:group/proj:pipeline@main", Source.GITLAB) == "group/proj"
    assert project_of("jenkins:folder/job", Source.JENKINS) == "folder/job"
    assert project_of("octo/app:ci/job-1", Source.GITHUB) == "octo/app"  # no source prefix
