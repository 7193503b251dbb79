"""The analyzer's second half, without an LLM: from an analysis and its log to the root cause and
a validated fix proposal.

    finders (tests, locations, dependencies, resources, credentials) ─► rank ─► explain
    fixers (dependency, compilation, lint, test, kubernetes, ci_config) ─► validate ─► best

A finder or fixer that fails is logged and skipped; the others go on. A proposal whose patch
does not validate keeps its files and actions and loses the patch, with the reason said.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from recoverops.analysis import Analysis
from recoverops.diagnosis.explain import explain, rank
from recoverops.diagnosis.finders import FINDERS
from recoverops.diagnosis.fixes import FIXERS, FixContext
from recoverops.diagnosis.model import Component, FixProposal, RootCause
from recoverops.diagnosis.repo import Checkout
from recoverops.diagnosis.text import FailureText
from recoverops.diagnosis.validate import validate

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


def diagnose(analysis: Analysis, *, text: str, repo: Path | None = None) -> Analysis:
    """`analysis` with its root cause and its best fix proposal (None when no fixer has one)."""
    checkout = Checkout(repo) if repo is not None else None
    root_cause, proposals = diagnose_text(analysis, text=text, checkout=checkout)
    return replace(analysis, root_cause=root_cause, fix=proposals[0] if proposals else None)
