"""The fixer interface, and what every fixer is given."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from recoverops.analysis import Analysis
from recoverops.diagnosis.model import Component, ComponentKind, FixProposal
from recoverops.diagnosis.patch import make_diff
from recoverops.diagnosis.repo import Checkout
from recoverops.diagnosis.text import FailureText


@dataclass(frozen=True, slots=True)
class FixContext:
    """The failure (its analysis and text), its components ranked most telling first, and the
    checkout when one was given."""

    analysis: Analysis
    text: FailureText
    components: tuple[Component, ...]
    checkout: Checkout | None = None

    def of_kind(self, kind: ComponentKind) -> list[Component]:
        return [c for c in self.components if c.kind == kind]

    def resolve(self, path: str) -> str | None:
        """The checkout's file for a path the log names; the path itself without a checkout;
        None when a checkout has no such file."""
        if self.checkout is None:
            return path
        return self.checkout.resolve(path)

    def read(self, path: str) -> str | None:
        return None if self.checkout is None else self.checkout.read(path)

    def log_mentions(self, *words: str) -> bool:
        lowered = [w.lower() for w in words]
        return any(any(w in line.lower() for w in lowered) for _, line in self.text.lines())


class Fixer(Protocol):
    def propose(self, context: FixContext) -> FixProposal | None:
        """A proposal for this failure, or None when this fixer has nothing to say about it."""
        ...


def with_edits(proposal: FixProposal, context: FixContext, edits: dict[str, str]) -> FixProposal:
    """`proposal` carrying a unified diff of `edits` (path -> new text) against the checkout."""
    originals: dict[str, str] = {}
    diffs: list[str] = []
    for path, new in edits.items():
        old = context.read(path)
        if old is None or old == new:
            continue
        originals[path] = old
        diffs.append(make_diff(path, old, new))
    if not diffs:
        return proposal
    return FixProposal(
        kind=proposal.kind,
        files=proposal.files,
        explanation=proposal.explanation,
        confidence=proposal.confidence,
        actions=proposal.actions,
        patch="".join(diffs),
        originals=originals,
        snippets=proposal.snippets,
    )


def unique(paths: Iterable[str | None]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for path in paths:
        if path and path not in seen:
            seen[path] = None
    return tuple(seen)
