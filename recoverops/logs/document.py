"""A log as given, split into lines, with each line cleaned on demand.

Line numbers everywhere are 1-based positions in the input as given (lines split on '\\n'), so an
operator can open the raw log at the line we name. Cleaning is lazy: a 500,000-line log is only
split, and only the lines the analyzer looks at are cleaned.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right

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
    """The raw text, where each line starts, and cleaned lines computed once each when asked for.

    Only line offsets are kept (8 bytes a line), not a list of line strings: a 500,000-line log
    costs its text and 4 MiB, and the lines nobody looks at are never copied.
    """

    __slots__ = ("text", "_starts", "_clean")

    def __init__(self, text: str) -> None:
        self.text = text
        starts = array("q", [0])
        find, position = text.find, text.find("\n")
        while position != -1:
            starts.append(position + 1)
            position = find("\n", position + 1)
        if starts[-1] == len(text) and len(starts) > 1:
            starts.pop()  # a final newline ends the last line; it does not open another
        self._starts = starts
        self._clean: dict[int, str] = {}

    def __len__(self) -> int:
        return 0 if not self.text else len(self._starts)

    def raw(self, number: int) -> str:
        """The 1-based line `number` as given (without its newline)."""
        start = self._starts[number - 1]
        end = self._starts[number] - 1 if number < len(self._starts) else len(self.text)
        if end == len(self.text) and self.text.endswith("\n"):
            end -= 1
        return self.text[start:end]

    def clean(self, number: int) -> str:
        """The cleaned text of 1-based line `number`."""
        cached = self._clean.get(number)
        if cached is None:
            cached = self._clean[number] = clean_line(self.raw(number))
        return cached

    def line_at(self, offset: int) -> int:
        """The 1-based line number holding character `offset` of the text."""
        return max(1, min(len(self), bisect_right(self._starts, offset)))
