"""CI configuration: where a workflow's YAML is broken, a missing `permissions:` block, a job
that ran out of time. A patch is made for the `permissions:` block when the checkout has the
workflow; a syntax error is located, not guessed at."""

from __future__ import annotations

import re

from recoverops.diagnosis.fixes.base import FixContext, unique, with_edits
from recoverops.diagnosis.model import FixProposal
from recoverops.taxonomy import Category

_WORKFLOW_AT = re.compile(
    r"(?P<file>\.github/workflows/[\w.\-]+\.ya?ml)(?:#L|\s*\(Line: |:)(?P<line>\d+)?"
)
_YAML_AT = re.compile(r"(?:yaml: line (?P<a>\d+)|line (?P<b>\d+), column \d+)")
_PERMISSION = re.compile(
    (
        r"Resource not accessible by integration|permission[s]? .*(?:denied|required)"
        r" .*GITHUB_TOKEN|Write access to repository not granted"
    ),
    re.IGNORECASE,
)
_TIMEOUT = re.compile(
    (
        r"exceeded the maximum execution time of (?P<minutes>\d+) ?minutes|has"
        r" exceeded the (?:maximum )?time|timed out after (?P<after>\d+)"
        r" ?minutes"
    ),
    re.IGNORECASE,
)
# The least a workflow that writes back (comments, statuses, releases) needs.
PERMISSIONS_BLOCK = "permissions:\n  contents: read\n  pull-requests: write\n"


def add_permissions(text: str) -> str:
    """A workflow with a top-level `permissions:` block before its `jobs:` (unchanged if it has
    one)."""
    if re.search(r"^permissions:", text, re.MULTILINE):
        return text
    return re.sub(r"^jobs:", PERMISSIONS_BLOCK + "\njobs:", text, count=1, flags=re.MULTILINE)


class CiConfig:
    def propose(self, context: FixContext) -> FixProposal | None:
        if context.analysis.category not in (
            Category.DEPLOY_CONFIG,
            Category.DEPLOY_PERMISSION,
            Category.DEPLOY_RESOURCES,
            Category.SECURITY_SECRET,
        ):
            return None
        lines = list(context.text.lines())
        said = "\n".join(line for _, line in lines)
        workflow = next((m for _, line in lines if (m := _WORKFLOW_AT.search(line))), None)
        workflows = [workflow["file"]] if workflow else self._workflows(context)
        if _PERMISSION.search(said):
            proposal = FixProposal(
                kind="ci_config",
                files=unique([context.resolve(w) for w in workflows]),
                explanation=(
                    "The job's GITHUB_TOKEN lacks a permission the step needs (\"Resource"
                    ' not accessible by integration"): the workflow should grant it'
                    " in a `permissions:` block."
                ),
                confidence=0.55,
                actions=(
                    (
                        "add a `permissions:` block granting what the failing step writes"
                        " (e.g. pull-requests: write, contents: write)"
                    ),
                ),
            )
            files = proposal.files[:1] if len(proposal.files) == 1 else ()
            return with_edits(
                proposal, context, {f: add_permissions(t) for f in files if (t := context.read(f))}
            )
        timeout = _TIMEOUT.search(said)
        if timeout and context.analysis.category is Category.DEPLOY_RESOURCES:
            minutes = timeout["minutes"] or timeout["after"]
            after = f" after {minutes} minutes" if minutes else ""
            return FixProposal(
                kind="ci_config",
                files=unique([context.resolve(w) for w in workflows]),
                explanation=f"The job ran out of time{after}.",
                confidence=0.5,
                actions=(
                    "find the step that hangs (the last one the log shows running)",
                    (
                        "set `timeout-minutes` on the job or step to a bound that fits,"
                        " and split or cache slow steps"
                    ),
                ),
            )
        at = _YAML_AT.search(said)
        if workflow or at:
            line = (workflow["line"] if workflow else None) or (at["a"] or at["b"] if at else None)
            target = workflows[0] if workflows else "the CI configuration"
            at_line = f" line {line}" if line else ""
            return FixProposal(
                kind="ci_config",
                files=unique([context.resolve(w) for w in workflows]),
                explanation=(
                    f"The CI configuration does not parse or validate: {target}{at_line}."
                ),
                confidence=0.55,
                actions=(
                    (
                        f"fix the YAML at {target}{f':{line}' if line else ''} (indentation,"
                        f" a missing ':' or quote)"
                    ),
                    (
                        "check it with actionlint, or `python -c 'import sys, yaml;"
                        " yaml.safe_load(open(sys.argv[1]))' FILE`"
                    ),
                ),
            )
        return None

    @staticmethod
    def _workflows(context: FixContext) -> list[str]:
        if context.checkout is None:
            return []
        return [
            p
            for p in context.checkout.files
            if p.startswith(".github/workflows/") and p.endswith((".yml", ".yaml"))
        ]
