"""Travis CI job logs: each command is echoed as `$ cmd` (often behind travis_fold/travis_time
markers), and `The command "cmd" exited with N.` closes it."""

from __future__ import annotations

import re
from bisect import bisect_left

from recoverops.analysis import Step
from recoverops.logs.document import LogDocument
from recoverops.logs.formats.base import matches, shorten

# "$ " at the start of a line, or right after the marker that erases the fold/timer line. The
# pattern starts with its literal so that `re` can skip ahead; the position is checked after.
_COMMAND = re.compile(r"\$ ([^\r\n]*)")
_ERASE_LINE = "\x1b[0K"
# `The command "cmd" exited with N.`: found by its verdict, then checked for its opening, since
# the echoed command may span lines (a multi-line `script:` entry).
_EXIT = re.compile(r'" (?:failed and )?exited with (\d+)')
_OPENING = 'The command "'
_MAX_COMMAND_LINES = 5
_STALLED = re.compile(r"No output has been received in the last \d+m\d+s")


def _exits(doc: LogDocument) -> list[tuple[int, int]]:
    """(line, exit code) of each `The command "…" exited with N`, in order; a verdict counts
    only when Travis' opening stands between it and the previous verdict (npm-run-all's
    `ERROR: "lint" exited with 1.` is not one)."""
    text, found, previous_end = doc.text, [], 0
    for line, verdict in matches(doc, _EXIT):
        lower = max(previous_end, verdict.start() - 8192)
        opening = text.rfind(_OPENING, lower, verdict.start())
        if opening != -1 and text.count("\n", opening, verdict.start()) <= _MAX_COMMAND_LINES:
            found.append((line, int(verdict.group(1))))
            previous_end = verdict.end()
    return found


class Travis:
    name = "travis"

    def detect(self, doc: LogDocument) -> bool:
        return (
            "travis_fold:" in doc.text
            or "travis_time:" in doc.text
            or ('The command "' in doc.text and "exited with" in doc.text)
        )

    def steps(self, doc: LogDocument) -> list[Step]:
        text = doc.text
        commands = [
            (line, shorten(m.group(1)))
            for line, m in matches(doc, _COMMAND)
            if m.start() == 0
            or text[m.start() - 1] == "\n"
            or text.endswith(_ERASE_LINE, 0, m.start())
        ]
        exits = _exits(doc)
        exits += [(line, -1) for line, _ in matches(doc, _STALLED)]
        exits.sort()
        # An excerpt (or a log whose echo was lost) may close a command it never showed.
        if not commands or (exits and exits[0][0] < commands[0][0]):
            commands.insert(0, (1, "job"))
        steps: list[Step] = []
        for index, (start, name) in enumerate(commands):
            end = commands[index + 1][0] - 1 if index + 1 < len(commands) else len(doc)
            first = bisect_left(exits, (start, -(2**31)))
            closing = exits[first] if first < len(exits) and exits[first][0] <= end else None
            if closing is None:
                steps.append(Step(name=name, start=start, end=end, command=name))
                continue
            line, code = closing
            steps.append(
                Step(
                    name=name,
                    start=start,
                    end=line,
                    failed=code != 0,
                    exit_code=None if code < 0 else code,
                    command=name,
                )
            )
        return steps
