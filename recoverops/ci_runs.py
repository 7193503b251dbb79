"""What a webhook payload says about the CI run it reports: commit, branch, attempt, outcome.

Every finished run of a job is recorded (`ci_runs`, migration 0013), passing runs too and
without analysis, because a failure's history needs them: a job that passed on the same commit
is flaky, the same failure on the default branch is broken trunk, and the last passing run is
the log to compare with. Only a job's own event is a run (GitHub `workflow_job`, GitLab `job`,
Jenkins `build` at FINALIZED); check runs, suites, workflow runs and pipelines echo their jobs.

    github   workflow_job: head_sha, head_branch, run_id, run_attempt; repository.default_branch
    gitlab   sha, ref, pipeline_id, retries_count (attempt = retries + 1); project.default_branch
    jenkins  build.scm.commit, build.scm.branch (no default branch), the build number
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from recoverops.incidents import Source

Outcome = Literal["passed", "failed"]

# GitHub conclusions and GitLab/Jenkins statuses of a finished run; any other (cancelled,
# skipped, a GitLab job allowed to fail) is nobody's signal about the code and is not recorded.
_GITHUB = {"success": "passed", "failure": "failed", "timed_out": "failed"}
_GITLAB = {"success": "passed", "failed": "failed"}
_JENKINS = {"SUCCESS": "passed", "FAILURE": "failed", "UNSTABLE": "failed"}


@dataclass(frozen=True, slots=True)
class RunFacts:
    """One finished run of one job. `target` is the job as incidents name it
    ("github:owner/repo:workflow/job"); `log_project`/`log_job` the connector's JobRef."""

    source: str
    target: str
    outcome: Outcome
    commit_sha: str | None = None
    branch: str | None = None
    default_branch: str | None = None
    run_key: str | None = None
    attempt: int | None = None
    log_project: str | None = None
    log_job: str | None = None


def run_facts(source: Source, kind: str, target: str, body: Mapping[str, Any]) -> RunFacts | None:
    """The run a delivery reports, or None when it is not a finished run of a job."""
    job_target = f"{source.value}:{target}"
    if source is Source.GITHUB and kind == "workflow_job.completed":
        job = _map(body.get("workflow_job"))
        outcome = _GITHUB.get(str(job.get("conclusion")))
        if outcome is None:
            return None
        return RunFacts(
            source=source.value,
            target=job_target,
            outcome=outcome,  # type: ignore[arg-type]  # the table's values are Outcomes
            commit_sha=_text(job.get("head_sha")),
            branch=_text(job.get("head_branch")),
            default_branch=_text(_map(body.get("repository")).get("default_branch")),
            run_key=_text(job.get("run_id")),
            attempt=_number(job.get("run_attempt")),
            log_project=_text(_map(body.get("repository")).get("full_name")),
            log_job=_text(job.get("id")),
        )
    if source is Source.GITLAB and kind == "job":
        if body.get("build_allow_failure") is True:
            return None
        outcome = _GITLAB.get(str(body.get("build_status")))
        if outcome is None:
            return None
        retries = _number(body.get("retries_count"))
        return RunFacts(
            source=source.value,
            target=job_target,
            outcome=outcome,  # type: ignore[arg-type]
            commit_sha=_text(body.get("sha")),
            branch=_text(body.get("ref")),
            default_branch=_text(_map(body.get("project")).get("default_branch")),
            run_key=_text(body.get("pipeline_id")),
            attempt=None if retries is None else retries + 1,
            log_project=_text(body.get("project_id")),
            log_job=_text(body.get("build_id")),
        )
    if source is Source.JENKINS and kind == "build.finalized":
        build = _map(body.get("build"))
        outcome = _JENKINS.get(str(build.get("status")))
        if outcome is None:
            return None
        scm = _map(build.get("scm"))
        number = _text(build.get("number"))
        return RunFacts(
            source=source.value,
            target=job_target,
            outcome=outcome,  # type: ignore[arg-type]
            commit_sha=_text(scm.get("commit")),
            branch=_branch(_text(scm.get("branch"))),
            run_key=number,
            log_project=target,
            log_job=number,
        )
    return None


def _branch(name: str | None) -> str | None:
    """Jenkins' Git plugin names the remote branch ("origin/main"): the branch is "main"."""
    if name is None:
        return None
    for prefix in ("refs/heads/", "origin/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    return value[:255] if isinstance(value, str) and value else None


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
