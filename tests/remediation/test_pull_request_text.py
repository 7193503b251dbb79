"""What a pull request says: the root cause, the fix, the evidence and the incident's link, and
no secret of any kind the redaction knows, wherever it was planted."""

from __future__ import annotations

import pytest

from recoverops.remediation.pull_requests.service import branch_for
from recoverops.remediation.pull_requests.text import (
    MAX_EVIDENCE_LINES,
    Proposal,
    commit_message,
    description,
    title,
)
from tests.planted_secrets import KINDS, leaks, plant

FIX = {
    "kind": "dependency",
    "files": ["requirements.txt"],
    "patch": "--- a/requirements.txt\n+++ b/requirements.txt\n",
    "actions": ["pip install -r requirements.txt"],
    "explanation": "pip could not resolve requests==2.99; pin the newest release, 2.32.3.",
    "confidence": 0.8,
}
CAUSE = {"explanation": "The dependency requests==2.99 does not exist on PyPI.", "components": []}


def proposal(**changes: object) -> Proposal:
    fields: dict[str, object] = {
        "incident_id": 42,
        "target": "octo/shop:ci/test",
        "category": "build.dependency",
        "fix": FIX,
        "root_cause": CAUSE,
        "evidence": [{"line": 17, "text": "ERROR: No matching distribution for requests==2.99"}],
        "link": "https://recoverops.example.com/incidents/42",
    }
    fields.update(changes)
    return Proposal(**fields)  # type: ignore[arg-type]


def test_the_description_says_why_what_and_where() -> None:
    text = description(proposal())
    assert "[incident #42](https://recoverops.example.com/incidents/42)" in text
    assert "### Root cause\n\nThe dependency requests==2.99 does not exist" in text
    assert "pin the newest release, 2.32.3." in text and "- pip install -r requirements.txt" in text
    assert "```text\n    17 | ERROR: No matching distribution for requests==2.99\n```" in text
    assert title(proposal()) == "RecoverOps: dependency fix in requirements.txt (incident #42)"
    assert commit_message(proposal()).endswith(
        "Incident: [incident #42](https://recoverops.example.com/incidents/42)\n"
    )


def test_without_a_public_url_the_incident_is_named_by_number() -> None:
    text = description(proposal(link=None))
    assert "incident #42" in text and "](" not in text


def test_evidence_cannot_break_out_of_its_block_and_is_capped() -> None:
    lines = [{"line": n, "text": f"```\n@octocat line {n}"} for n in range(1, 30)]
    text = description(proposal(evidence=lines))
    block = text.split("```text\n", 1)[1].split("\n```", 1)[0]
    assert "```" not in block  # a log line's fence does not close the block early
    assert block.count(" | ") == MAX_EVIDENCE_LINES


@pytest.mark.parametrize("kind", KINDS)
def test_no_planted_secret_reaches_the_title_description_or_commit(kind: str) -> None:
    planted = plant(kind)
    fix = {**FIX, "explanation": f"{FIX['explanation']} {planted.line}", "actions": [planted.line]}
    made = proposal(
        fix=fix,
        root_cause={"explanation": planted.line},
        evidence=[{"line": 3, "text": planted.line}],
        target=f"octo/shop:{planted.line}",
    )
    for text in (title(made), description(made), commit_message(made)):
        assert leaks(planted.secret, text) == [], kind


def test_branch_names_come_from_the_incident_and_the_fix_kind() -> None:
    assert branch_for(42, 0, "ci_config") == "recoverops/incident-42-ci-config"
    assert branch_for(42, 2, "Dependency") == "recoverops/incident-42-dependency-2"
    assert branch_for(7, 0, "../../main") == "recoverops/incident-7-main"
