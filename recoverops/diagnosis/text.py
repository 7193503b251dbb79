"""The part of a log the diagnosis reads, and how close each line is to the failure."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from recoverops.analysis import Analysis
from recoverops.logs.document import LogDocument

# As the detector: the lines before the failure point that count, and the after-failure tail.
WINDOW_LINES = 20_000
TAIL_LINES = 300
# Lines this close to an evidence line are part of the failure.
NEAR = 3


@dataclass(frozen=True, slots=True)
class FailureText:
    """A log with its analysis: the lines to read, in order, and the evidence around them."""

    doc: LogDocument
    analysis: Analysis
    first: int
    last: int
    evidence_lines: tuple[int, ...]

    @classmethod
    def of(cls, text: str, analysis: Analysis) -> FailureText:
        doc = LogDocument(text)
        step = analysis.failing_step
        end = len(doc) if step is None or step.end <= 1 else min(len(doc), step.end)
        return cls(
            doc=doc,
            analysis=analysis,
            first=max(1, end - WINDOW_LINES + 1),
            last=min(len(doc), end + TAIL_LINES),
            evidence_lines=tuple(e.line for e in analysis.evidence),
        )

    def lines(self) -> Iterator[tuple[int, str]]:
        """(1-based number, cleaned text) of the lines to read, in log order."""
        for number in range(self.first, self.last + 1):
            line = self.doc.clean(number)
            if line:
                yield number, line

    def line(self, number: int) -> str:
        return self.doc.clean(number) if 1 <= number <= len(self.doc) else ""

    def focus(self, number: int) -> tuple[int, int]:
        """How central a line is, smaller first: an evidence line by its rank (the engine's most
        telling line first), then a line near one, then any other."""
        if number in self.evidence_lines:
            return 0, self.evidence_lines.index(number)
        if any(abs(number - e) <= NEAR for e in self.evidence_lines):
            return 1, 0
        return 2, 0
