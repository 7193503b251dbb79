"""A log as given, split into lines, with each line cleaned on demand.

Line numbers everywhere are 1-based positions in the input as given (lines split on '\\n'), so an
operator can open the raw log at the line we name. Cleaning is lazy: a 500,000-line log is only
split, and only the lines the analyzer looks at are cleaned.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

# CSI sequences (colours, cursor moves, "erase line"), OSC sequences (titles, hyperlinks), and the
# remaining two-byte escapes.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
# GitHub Actions prefixes every line with an ISO timestamp; Jenkins' timestamper with a time.
_TIMESTAMP = re.compile(
    r"^(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?"
    r"|\[\d{4}-\d\d-\d\dT[\d:.]+Z\] "
    r"|\d\d:\d\d:\d\d(?:\.\d+)? )"
)


def clean_line(raw: str) -> str:
    """What a terminal would show for one raw line: no colour codes, no timestamp prefix,
    and for carriage-return progress output only the last text written."""
    line = _ANSI.sub("", raw) if "\x1b" in raw else raw
    if "\r" in line:
        segments = [s for s in line.split("\r") if s.strip()]
        line = segments[-1] if segments else ""
    if line[:1].isdigit() or line[:1] == "[":
        line = _TIMESTAMP.sub("", line, count=1)
    return line.rstrip()


class LogDocument:
    """The raw text, its lines, and cleaned lines computed once each when asked for."""

    __slots__ = ("text", "lines", "_clean", "_offsets")

    def __init__(self, text: str) -> None:
        self.text = text
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.lines = lines
        self._clean: dict[int, str] = {}
        self._offsets: list[int] | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def clean(self, number: int) -> str:
        """The cleaned text of 1-based line `number`."""
        cached = self._clean.get(number)
        if cached is None:
            cached = self._clean[number] = clean_line(self.lines[number - 1])
        return cached

    def line_at(self, offset: int) -> int:
        """The 1-based line number holding character `offset` of the text."""
        if self._offsets is None:
            self._offsets = list(accumulate((len(line) + 1 for line in self.lines), initial=0))
        return max(1, min(len(self.lines), bisect_right(self._offsets, offset)))
