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
# The echoed command may span lines (a multi-line `script:` entry).
_EXIT = re.compile(r'The command "([^\n]*(?:\n[^\n]*){0,5}?)" (?:failed and )?exited with (\d+)')
_STALLED = re.compile(r"No output has been received in the last \d+m\d+s")


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
        exits = [(doc.line_at(m.end()), int(m.group(2))) for _, m in matches(doc, _EXIT)]
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
