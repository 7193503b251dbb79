"""What changed against the last passing run of the same job: the failing log's new lines.

A diff of the raw texts says little: every line of a CI log carries a timestamp, a duration, a
temporary path or a build number that differs from run to run. The diff is taken on templates
instead (`recoverops.logs.templates`): the passing log is mined with the Drain miner, and a
failing line is *old* when its masked text was printed by the passing run, or when a template
mined from the passing run covers it (the same words where the passing run had fixed words);
what is left is new. One line is kept per new template, the first, so that a stack trace printed
forty times counts once; their number is said.
"""

from __future__ import annotations

from dataclasses import dataclass

from recoverops.logs.document import LogDocument
from recoverops.logs.templates import TemplateMiner, mask

# Both logs are read as deeply as the analysis window: the end of a CI log is where it fails.
MAX_LINES = 20_000
# How many new lines the root cause lists (the first ones; the count says how many there are).
SHOWN = 30


@dataclass(frozen=True, slots=True)
class NewLines:
    """The failing log's lines whose template the passing log never printed.

    `lines` are (1-based line number in the failing log, cleaned text), one per new template,
    in log order; `compared` is how many printed lines of the failing log were compared."""

    lines: tuple[tuple[int, str], ...]
    compared: int
    new_templates: int

    @property
    def removed_share(self) -> float:
        """How much of the compared log the diff takes away."""
        return 1.0 - len(self.lines) / self.compared if self.compared else 0.0

    def to_json(self, *, shown: int = SHOWN) -> dict[str, object]:
        return {
            "new_lines": [{"line": n, "text": t} for n, t in self.lines[:shown]],
            "new_line_count": len(self.lines),
            "lines_compared": self.compared,
        }


class PassingLog:
    """The passing run's templates, mined once, to compare failing logs with."""

    def __init__(self, passing_text: str) -> None:
        doc = LogDocument(passing_text)
        self._miner = TemplateMiner()
        self._masked: set[str] = set()
        for number in range(max(1, len(doc) - MAX_LINES + 1), len(doc) + 1):
            line = doc.clean(number)
            if line.strip():
                self._masked.add(mask(line))
                self._miner.add(line)

    def printed(self, line: str) -> bool:
        """Whether the passing run printed this line, up to its variable parts."""
        return mask(line) in self._masked or self._miner.match(line) is not None

    def new_lines(self, failing_text: str) -> NewLines:
        doc = LogDocument(failing_text)
        seen: set[str] = set()
        found: list[tuple[int, str]] = []
        compared = 0
        for number in range(max(1, len(doc) - MAX_LINES + 1), len(doc) + 1):
            line = doc.clean(number)
            if not line.strip():
                continue
            compared += 1
            masked = mask(line)
            if masked in seen or self.printed(line):
                continue
            seen.add(masked)
            found.append((number, line))
        return NewLines(lines=tuple(found), compared=compared, new_templates=len(seen))


def new_lines(failing_text: str, passing_text: str) -> NewLines:
    """The lines of `failing_text` that are new against `passing_text` (see the module)."""
    return PassingLog(passing_text).new_lines(failing_text)
