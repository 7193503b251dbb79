"""The analyzer's second half, without an LLM: from an analysis and its log to the root cause and
a validated fix proposal.

    finders (tests, locations, dependencies, resources, credentials) ─► rank ─► explain
    fixers (dependency, compilation, lint, test, kubernetes, ci_config) ─► validate ─► best

A finder or fixer that fails is logged and skipped; the others go on. A proposal whose patch
does not validate keeps its files and actions and loses the patch, with the reason said.

With an `Advisor` (an LLM is configured, `diagnosis.llm`), the masked root cause and fixes go
to it with similar `past` incidents and the lines `changed` since the last passing run (when
known): it may rewrite the explanation and choose which of the fixes is shown first, nothing
more; whatever goes wrong, the diagnosis above stands.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recoverops.analysis import Analysis
from recoverops.diagnosis.explain import explain, rank
from recoverops.diagnosis.finders import FINDERS
from recoverops.diagnosis.fixes import FIXERS, FixContext
from recoverops.diagnosis.model import Component, FixProposal, RootCause
from recoverops.diagnosis.repo import Checkout
from recoverops.diagnosis.text import FailureText
from recoverops.diagnosis.validate import validate
from recoverops.logs.what_changed import new_lines
from recoverops.redaction import Redactor

if TYPE_CHECKING:  # the LLM's modules (and openai) load only when one is configured
    from recoverops.diagnosis.llm import Advisor

logger = logging.getLogger(__name__)


def find_components(text: FailureText) -> list[Component]:
    found: list[Component] = []
    for name, finder in FINDERS.items():
        try:
            found += finder.find(text)
        except Exception:  # one finder's bug must not cost the others' findings
            logger.exception("finder %s failed", name)
    return found


def propose_fixes(context: FixContext) -> list[FixProposal]:
    """Every fixer's validated proposal, in the fixers' order of preference."""
    proposals: list[FixProposal] = []
    for name, fixer in FIXERS.items():
        try:
            proposal = fixer.propose(context)
        except Exception:
            logger.exception("fixer %s failed", name)
            continue
        if proposal is None:
            continue
        verdict = validate(proposal)
        if not verdict.ok:
            proposal = replace(
                proposal,
                patch=None,
                originals={},
                explanation=f"{proposal.explanation} (No patch: {verdict.reason}.)",
                confidence=proposal.confidence * 0.8,
            )
        proposals.append(proposal)
    return proposals


def diagnose_text(
    analysis: Analysis, *, text: str, checkout: Checkout | None = None
) -> tuple[RootCause, list[FixProposal]]:
    failure = FailureText.of(text, analysis)
    components = rank(find_components(failure), failure)
    root_cause = explain(analysis, components)
    context = FixContext(analysis=analysis, text=failure, components=components, checkout=checkout)
    return root_cause, propose_fixes(context)


def diagnose(
    analysis: Analysis,
    *,
    text: str,
    repo: Path | None = None,
    passing_text: str | None = None,
    changed_files: Sequence[str] | None = None,
    advisor: Advisor | None = None,
    past: Sequence[Mapping[str, Any]] = (),
    target: str = "",
) -> Analysis:
    """`analysis` with its root cause and its best fix proposal (None when no fixer has one).

    With the log of the last passing run of the same job (`passing_text`), the root cause says
    what changed: the failing log's new lines; with the failing commit's `changed_files` (a
    connector lists them), those too. With an `advisor`, as the LLM explained and chose it (see
    the module docstring), shown those new lines and the `past` incidents, its answer cached for
    this failure of `target`."""
    checkout = Checkout(repo) if repo is not None else None
    root_cause, proposals = diagnose_text(analysis, text=text, checkout=checkout)
    # The finders read the raw log: what they quote is masked like the evidence before it leaves.
    redact = Redactor.for_log(text)
    changed = what_changed(text, passing_text=passing_text, changed_files=changed_files)
    if changed is not None:
        root_cause = replace(root_cause, what_changed=masked_changes(changed, redact))
    masked_cause = masked_root_cause(root_cause, redact)
    fixes = [masked_fix(fix, redact) for fix in proposals]
    fix = fixes[0] if fixes else None
    if advisor is not None:
        from recoverops.diagnosis.llm import apply_advice

        new_lines = (masked_cause.what_changed or {}).get("new_lines") or []
        advice = advisor.advise(
            analysis,
            root_cause=masked_cause,
            fixes=fixes,
            text=text,
            past=past,
            changed=[line["text"] for line in new_lines],
            target=target,
        )
        masked_cause, fix = apply_advice(advice, root_cause=masked_cause, fixes=fixes)
    return replace(analysis, root_cause=masked_cause, fix=fix)


def what_changed(
    text: str, *, passing_text: str | None, changed_files: Sequence[str] | None
) -> dict[str, Any] | None:
    """The root cause's `what_changed`, or None when neither a passing log nor changed files
    are known."""
    if passing_text is None and changed_files is None:
        return None
    changed: dict[str, Any] = {"against": None, "changed_files": None}
    if passing_text is not None:
        changed["against"] = "the last passing run of the same job"
        changed.update(new_lines(text, passing_text).to_json())
    if changed_files is not None:
        changed["changed_files"] = list(changed_files)
    return changed


def masked_changes(changed: dict[str, Any], redact: Redactor) -> dict[str, Any]:
    lines = changed.get("new_lines") or []
    masked = [{**line, "text": redact(line["text"])} for line in lines]
    return {**changed, "new_lines": masked} if "new_lines" in changed else changed


def masked_root_cause(root_cause: RootCause, redact: Redactor) -> RootCause:
    components = tuple(
        replace(c, name=redact(c.name), detail=redact(c.detail)) for c in root_cause.components
    )
    return replace(root_cause, components=components, explanation=redact(root_cause.explanation))


def masked_fix(fix: FixProposal, redact: Redactor) -> FixProposal:
    """`fix` with its words masked; its patch is made from the checkout's files, not the log, and
    must still apply, so it is left as validated."""
    return replace(fix, explanation=redact(fix.explanation), actions=redact.lines(fix.actions))
