"""What the history says about a failure: broken trunk, flaky, recurring, or new.

It reads the analyzer's context (`actors.analyzer.incident_context`: occurrences and the same
failure on other targets, from the incidents) and the CI runs the webhooks reported
(`recoverops.ci_runs`: commit, branch, attempt and outcome of every run, passing ones too).

PyTorch's Dr. CI is the anchor (pytorch/test-infra, torchci/pages/api/drci/drci.ts,
`getWorkflowJobsStatuses`, and torchci/lib/drciUtils.ts): a failed PR job is BROKEN TRUNK when
the same job failed with the same failure (its `failure_captures`) on the merge base in trunk,
and that is decided first; only then is it FLAKY, when a flaky rule matches, the job failed
without a log, or the same failure was seen in another job on another commit
(`hasSimilarFailures`); lint jobs are excluded from flakiness. We keep its order and its notion
of "the same failure" (the same job and failure templates: the incident's fingerprint), and
answer from what we record rather than from a merge base we cannot see:

    broken_trunk  the same fingerprint failed on the default branch within 7 days before this run
    flaky         the same job passed on the same commit (another run, or a re-run attempt of
                  this one), or a test that failed here passed in another run on that commit
    recurring     the fingerprint was seen before: how often, the last fix and what became of it
    new           none of these

`flaky` and `broken_trunk` are None ("not known") when the run's commit, or every default branch,
is unknown: never a guess. A flaky failure's fix is a rerun (`rerun_fix`), not a code change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from recoverops.diagnosis.model import FixProposal
from recoverops.store.ci_runs import LastFix, StoredRun

TRUNK_WINDOW = timedelta(days=7)
# Lint is deterministic: Dr. CI's EXCLUDED_FROM_FLAKINESS, by the job's name.
NEVER_FLAKY = ("lint",)


@dataclass(frozen=True, slots=True)
class RunHistory:
    """The failing run and the runs it is judged against (see `actors.analyzer`)."""

    run: StoredRun | None
    same_commit: Sequence[StoredRun] = ()
    same_failure: Sequence[StoredRun] = ()  # failed runs with this fingerprint, newest first
    last_fix: LastFix | None = None
    failing_tests: Sequence[str] = field(default_factory=tuple)


def history(context: Mapping[str, Any], runs: RunHistory | None = None) -> dict[str, Any]:
    occurrences = int(context.get("occurrences") or 1)
    elsewhere = context.get("same_failure_elsewhere") or []
    run = None if runs is None else runs.run
    flaky = _flaky(runs) if runs is not None else None
    trunk = _broken_trunk(runs) if runs is not None else None
    if trunk is not None and trunk["runs"]:
        status = "broken-trunk"
    elif flaky is not None and flaky["flaky"]:
        status = "flaky"
    elif occurrences > 1:
        status = "recurring"
    else:
        status = "new"
    return {
        "status": status,
        "occurrences": occurrences,
        "first_seen": context.get("first_seen"),
        "same_failure_on_other_targets": len(elsewhere),
        "commit": None if run is None else run.commit_sha,
        "branch": None if run is None else run.branch,
        "flaky": None if flaky is None else flaky["flaky"],
        "flaky_evidence": [] if flaky is None else flaky["evidence"],
        "flaky_tests": [] if flaky is None else flaky["tests"],
        "broken_trunk": None if trunk is None else bool(trunk["runs"]),
        "broken_trunk_runs": [] if trunk is None else trunk["runs"],
        "last_fix": None if runs is None else _last_fix(runs.last_fix),
    }


def _flaky(runs: RunHistory) -> dict[str, Any] | None:
    run = runs.run
    if run is None or run.commit_sha is None:
        return None
    job = run.target.rsplit(":", 1)[-1].lower()
    if any(word in job for word in NEVER_FLAKY):
        return {"flaky": False, "evidence": [], "tests": []}
    others = [r for r in runs.same_commit if r.event_id != run.event_id]
    evidence: list[str] = []
    for other in others:
        if other.outcome != "passed":
            continue
        if other.run_key is not None and other.run_key == run.run_key:
            evidence.append(
                f"attempt {other.attempt or '?'} of run {run.run_key} passed, attempt"
                f" {run.attempt or '?'} failed"
            )
        else:
            evidence.append(f"run {other.run_key or other.event_id} passed on the same commit")
    passed_all = any(o.outcome == "passed" for o in others)
    tests: list[str] = []
    if runs.failing_tests:
        # A test this run failed that another failed run on the commit did not name passed
        # there (that run's runner listed its failures and this one was not among them).
        named = [o.tests for o in others if o.outcome == "failed" and o.tests]
        for test in runs.failing_tests:
            if passed_all or any(test not in names for names in named):
                tests.append(test)
    return {"flaky": bool(evidence or tests), "evidence": evidence[:5], "tests": tests[:10]}


def _broken_trunk(runs: RunHistory) -> dict[str, Any] | None:
    run = runs.run
    if run is None:
        return None
    default = run.default_branch
    known = default is not None or any(r.default_branch for r in runs.same_failure)
    if not known:
        return None
    found = []
    for other in runs.same_failure:
        if other.event_id == run.event_id or other.outcome != "failed":
            continue
        if not run.finished_at - TRUNK_WINDOW <= other.finished_at <= run.finished_at:
            continue
        trunk = other.default_branch or default
        if other.branch is None or other.branch != trunk:
            continue
        found.append(
            {
                "commit": other.commit_sha,
                "branch": other.branch,
                "run": other.run_key,
                "at": other.finished_at.isoformat(),
            }
        )
    return {"runs": found[:5]}


def _last_fix(fix: LastFix | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "action": fix.kind,
        "status": fix.status,
        "at": None if fix.at is None else fix.at.isoformat(),
        "outcome": fix.feedback,
        "outcome_at": None if fix.feedback_at is None else fix.feedback_at.isoformat(),
    }


def rerun_fix(found: Mapping[str, Any], fix: Mapping[str, Any] | None) -> FixProposal:
    """The fix of a flaky failure: rerun the job (and the flaky tests), no code change; the
    files the code fix named stay listed, so an operator who wants to look knows where."""
    files = tuple(fix.get("files") or ()) if fix else ()
    tests = [str(t) for t in found.get("flaky_tests") or []]
    why = "; ".join(found.get("flaky_evidence") or []) or (
        f"test(s) {', '.join(tests[:3])} passed in another run on the same commit"
    )
    return FixProposal(
        kind="test",
        files=files,
        explanation=(
            f"Flaky: {why}. The code did not change between a pass and this failure, so a code"
            " change is not the fix: rerun the job, and quarantine the test if it flakes again."
        ),
        confidence=0.7,
        actions=("rerun the job",) + tuple(f"rerun test {t}" for t in tests[:3]),
    )
