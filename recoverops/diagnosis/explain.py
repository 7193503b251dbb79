"""The root cause in words: which components matter for the category, most telling first, a
paragraph that says what failed where and why, and how sure that is."""

from __future__ import annotations

from recoverops.analysis import Analysis
from recoverops.diagnosis.model import Component, ComponentKind, RootCause
from recoverops.diagnosis.text import FailureText
from recoverops.taxonomy import DESCRIPTIONS, Category

# The component kinds that can be the cause of each category's failures, in the order they are
# told; a category not listed can be caused by any.
RELEVANT: dict[Category, tuple[ComponentKind, ...]] = {
    Category.BUILD_TEST: ("test", "source", "dependency"),
    Category.BUILD_COMPILATION: ("source", "dependency"),
    Category.BUILD_LINT: ("source",),
    Category.BUILD_DEPENDENCY: ("dependency", "source"),
    Category.SECURITY_SECRET: ("credential", "resource"),
    Category.SECURITY_IAM: ("resource", "credential"),
    Category.DEPLOY_PERMISSION: ("resource", "credential"),
}
ALL_KINDS: tuple[ComponentKind, ...] = ("test", "source", "dependency", "resource", "credential")
MAX_COMPONENTS = 10
MAX_NAMED = 3


def rank(components: list[Component], text: FailureText) -> tuple[Component, ...]:
    """The components that matter for the category, most telling first: by kind, errors before
    warnings, lines near the evidence before others, then in log order (a compiler's first
    error is usually the cause of the later ones)."""
    kinds = RELEVANT.get(text.analysis.category, ALL_KINDS)
    relevant = [c for c in components if c.kind in kinds]
    relevant.sort(
        key=lambda c: (
            kinds.index(c.kind),
            c.severity != "error",
            text.focus(c.log_line),
            c.log_line,
        )
    )
    return tuple(relevant)


def _named(components: tuple[Component, ...]) -> str:
    names = [f"`{c.name}`" for c in components[:MAX_NAMED]]
    more = len(components) - MAX_NAMED
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def explain(analysis: Analysis, components: tuple[Component, ...]) -> RootCause:
    what = DESCRIPTIONS[analysis.category]
    step = analysis.failing_step
    sentences = [what[:1].upper() + what[1:]]
    if step is not None and step.name != "log":
        code = f" (exit code {step.exit_code})" if step.exit_code is not None else ""
        sentences[0] += f" in step `{step.command or step.name}`{code}"
    if components:
        lead = components[0]
        by_kind = {
            "test": "failing test(s)",
            "source": "error location(s)",
            "dependency": "unresolved dependency",
            "resource": "resource(s)",
            "credential": "credential(s) by name",
        }
        kind_of_lead = [c for c in components if c.kind == lead.kind]
        sentences.append(f"The log names the {by_kind[lead.kind]} {_named(tuple(kind_of_lead))}")
        if lead.detail and lead.kind != "credential":
            sentences.append(f"First: {lead.detail[:240]}")
        others = [c for c in components if c.kind != lead.kind]
        if others:
            sentences.append(f"Also named: {_named(tuple(others))}")
    elif analysis.evidence:
        sentences.append(
            f"No component is named; the most telling line is {analysis.evidence[0].line}: "
            f"{analysis.evidence[0].text.strip()[:200]}"
        )
    confidence = analysis.confidence * (1.0 if components else 0.6)
    if analysis.category is Category.UNKNOWN:
        confidence = min(confidence, 0.3)
    return RootCause(
        components=components[:MAX_COMPONENTS],
        explanation=". ".join(s.rstrip(".") for s in sentences) + ".",
        confidence=round(min(1.0, confidence), 3),
    )
