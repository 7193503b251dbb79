"""Fixers whose patch needs a message no real log in the fixtures carries: the message is written
here in the tool's documented format (pip's resolver; GitHub's answer to a token without a
permission), the verdict set by hand, and the patch checked against a small checkout."""

from __future__ import annotations

from pathlib import Path

import yaml

from recoverops.analysis import Analysis, Step
from recoverops.diagnosis import Checkout, diagnose_text
from recoverops.diagnosis.patch import apply, parse
from recoverops.taxonomy import Category

PIP_LOG = (
    "$ pip install -r requirements.txt\n"
    "Collecting flask==2.3.3\n"
    "ERROR: Could not find a version that satisfies the requirement requests==9.9.9"
    " (from versions: 2.30.0, 2.31.0, 2.32.0rc1)\n"
    "ERROR: No matching distribution found for requests==9.9.9\n"
)
PERMISSION_LOG = """Run actions/github-script@v7
RequestError [HttpError]: Resource not accessible by integration
Error: Unhandled error: HttpError: Resource not accessible by integration
"""
WORKFLOW = """name: label
on: pull_request
jobs:
  label:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/github-script@v7
"""


def verdict(category: Category, text: str) -> Analysis:
    lines = text.count("\n")
    return Analysis(
        category=category,
        confidence=0.9,
        summary="",
        evidence=(),
        log_format="plain",
        failing_step=Step(name="job", start=1, end=lines, failed=True, exit_code=1),
    )


def test_a_pin_to_a_version_that_does_not_exist_becomes_the_newest_release(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask==2.3.3\nrequests==9.9.9  # http\n")

    cause, [fix, *_] = diagnose_text(
        verdict(Category.BUILD_DEPENDENCY, PIP_LOG), text=PIP_LOG, checkout=Checkout(tmp_path)
    )

    assert cause.components[0].name == "requests==9.9.9"
    assert fix.kind == "dependency" and fix.files[0] == "requirements.txt"
    [diff] = parse(fix.patch or "")
    after = apply(diff, (tmp_path / "requirements.txt").read_text())
    assert after == "flask==2.3.3\nrequests==2.31.0  # http\n"  # not the pre-release


def test_a_token_without_a_permission_gets_a_permissions_block(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "label.yml").write_text(WORKFLOW)

    _, [fix, *_] = diagnose_text(
        verdict(Category.DEPLOY_PERMISSION, PERMISSION_LOG),
        text=PERMISSION_LOG,
        checkout=Checkout(tmp_path),
    )

    assert fix.kind == "ci_config" and fix.files == (".github/workflows/label.yml",)
    [diff] = parse(fix.patch or "")
    after = yaml.safe_load(apply(diff, WORKFLOW))
    assert after["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "label" in after["jobs"]
