"""What each CI's webhook payload says about its run: the payloads are the fixtures' published
examples (GitHub's and GitLab's documentation, the Notification plugin's), changed only in the
fields a finished run has."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from recoverops.ci_runs import run_facts
from recoverops.incidents import Source

HOOKS = Path(__file__).parents[1] / "fixtures" / "webhooks"


def load(path: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((HOOKS / path).read_text())
    return body


def test_a_github_job_run_names_its_commit_branch_default_branch_and_attempt() -> None:
    body = load("github/workflow_job/completed.failure.with-organization.payload.json")
    facts = run_facts(
        Source.GITHUB, "workflow_job.completed", "Codertocat/Hello-World:CodeQL/x", body
    )
    assert facts is not None
    job = body["workflow_job"]
    assert facts.target == "github:Codertocat/Hello-World:CodeQL/x"
    assert (facts.outcome, facts.commit_sha, facts.branch) == ("failed", job["head_sha"], "main")
    assert (facts.default_branch, facts.run_key, facts.attempt) == ("master", str(job["run_id"]), 1)
    assert (facts.log_project, facts.log_job) == ("Codertocat/Hello-World", str(job["id"]))
    passed = load("github/workflow_job/completed.success.with-organization.payload.json")
    ok = run_facts(Source.GITHUB, "workflow_job.completed", "r:w/j", passed)
    assert ok is not None and ok.outcome == "passed"


def test_a_run_that_is_not_finished_or_was_cancelled_is_not_recorded() -> None:
    body = load("github/workflow_job/in_progress.payload.json")
    assert run_facts(Source.GITHUB, "workflow_job.in_progress", "r:w/j", body) is None
    cancelled = load("github/workflow_job/completed.failure.with-organization.payload.json")
    cancelled["workflow_job"]["conclusion"] = "cancelled"
    assert run_facts(Source.GITHUB, "workflow_job.completed", "r:w/j", cancelled) is None
    # a workflow run echoes its jobs: not a run of a job
    assert run_facts(Source.GITHUB, "workflow_run.completed", "r:w", cancelled) is None


def test_a_gitlab_job_counts_its_retries_as_attempts() -> None:
    body = load("gitlab/gitlab-docs-job-event.json")
    body["build_status"] = "failed"
    facts = run_facts(Source.GITLAB, "job", "gitlab-org/gitlab-test:test/test", body)
    assert facts is not None
    assert (facts.outcome, facts.commit_sha, facts.branch, facts.default_branch) == (
        "failed",
        "2293ada6b400935a1378653304eaf6221e0fdb8f",
        "gitlab-script-trigger",
        "master",
    )
    assert (facts.run_key, facts.attempt, facts.log_project, facts.log_job) == (
        "2366",
        3,
        "380",
        "1977",
    )
    allowed = copy.deepcopy(body)
    allowed["build_allow_failure"] = True
    assert run_facts(Source.GITLAB, "job", "p:t/t", allowed) is None
    body["build_status"] = "created"
    assert run_facts(Source.GITLAB, "job", "p:t/t", body) is None


def test_a_jenkins_build_is_a_run_once_finalized_with_its_scm_branch() -> None:
    body = load("jenkins/notification-plugin-help-example.json")
    body["build"].update(
        phase="FINALIZED",
        status="SUCCESS",
        scm={
            "url": "https://git.example.com/app.git",
            "branch": "origin/main",
            "commit": "9f" * 20,
        },
    )
    facts = run_facts(Source.JENKINS, "build.finalized", "team/app", body)
    assert facts is not None
    assert (facts.outcome, facts.branch, facts.commit_sha) == ("passed", "main", "9f" * 20)
    assert facts.default_branch is None  # the plugin does not say it
    assert (facts.log_project, facts.log_job) == ("team/app", "1")
    assert run_facts(Source.JENKINS, "build.completed", "team/app", body) is None
