"""Lines that are never evidence, whatever words they hold.

A verdict says *that* a job failed ("BUILD FAILED", "Process completed with exit code 1",
"ERROR: Job failed: exit code 1"); a header or an empty `##[error]` line announces output that
follows; a closing brace ends a block; a stack frame says where the code was, while the exception
above it says what went wrong. Each reads like an error to a word count, and none tells an
operator why.

These are the generic shapes CI systems and build tools print for any project; what one tool says
as progress is the catalogue's `noise` (YAML), not this module.
"""

from __future__ import annotations

import re

_VERDICT = re.compile(
    r"""^\s*(?:\[[\d:.]+\]\s*)?(?:\#\#\[error\]\s*)?(?:\[error\]\s*)?(?:
        (?:[\w.-]+\s)?build\s+fail(?:ed|ure)\b[!.]?(?:\s+in\s+[\w.]+)?\s*$
      | failure:\s+build\s+failed\s+with\s+an\s+exception\.?\s*$
      | process\s+completed\s+with\s+exit\s+code\s+-?\d+\.?\s*$
      | (?:error:\s+)?job\s+failed(?::\s+exit\s+(?:code|status)\s+-?\d+)?\.?\s*$
      | (?:error:\s+)?process\s+exited\s+with\s+code:?\s*-?\d+\.?\s*$
      | (?:error:?\s+)?command\s+failed\s+with\s+exit\s+code\s+-?\d+\.?\s*$
      | (?:error:\s+)?script\s+returned\s+exit\s+code\s+-?\d+\s*$
      | the\s+command\s+".*"\s+(?:failed\s+and\s+)?exited\s+with\s+-?\d+\.?\s*$
      | done\.\s+your\s+build\s+exited\s+with\s+-?\d+\.?\s*$
      | finished:\s+(?:failure|unstable|aborted)\s*$
      | npm\s+err!\s+(?:code\s+elifecycle|errno\s+-?\d+|exit\s+status\s+-?\d+)\s*$
      | (?:npm\s+)?err!\s+a\s+complete\s+log\s+of\s+this\s+run
      | (?:npm\s+)?err!\s+this\s+is\s+probably\s+not\s+a\s+problem\s+with\s+npm
      | make(?:\[\d+\])?:\s+\*\*\*\s+.*\berror\s+\d+\s*$
      | exit\s+(?:code|status)\s+-?\d+\.?\s*$
      | (?:[\w.:'"-]+\s){0,2}(?:failed|exited)\s+with\s+(?:exit\s+)?(?:code|status)?:?\s*\(?-?\d+\)?
      | rake\s+aborted!\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Headers: a marker line with nothing after it, a banner of rules around a word or two, a label
# ending in a colon ("Failures:", "* What went wrong:").
_HEADER = re.compile(
    r"""^\s*(?:
        \#\#\[(?:error|warning|group|endgroup|section)\]\s*$
      | \#\#\[(?:group|endgroup|section)\].*
      | [=_*#~-]{3,}\s*[A-Za-z][A-Za-z ]{0,30}?\s*[=_*#~-]{3,}\s*$
      | (?:\*\s+)?(?:[A-Za-z]+\s){0,3}[A-Za-z]+:\s*$
      | (?:error|failures?|errors?|failed)!?\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# A line of only closing (or opening) brackets and punctuation: `}`, `});`, `]`.
_BRACES = re.compile(r"^\s*[\]\)\}\[\(\{;,.]+\s*$")
# Stack frames: Java/Kotlin/Scala/C# and JavaScript `at x (file:line)`, Ruby `from file:line:in`,
# `... 12 more`.
_FRAME = re.compile(
    r"""^\s*(?:
        at\s+(?:async\s+)?[\w$.<>\[\]/`'-]+(?:\s?\(.*\))?\s*$
      | at\s+\S+:\d+(?::\d+)?\)?\s*$
      | (?:from\s+)?[\w./~-]+\.rb:\d+:in\s+`
      | \.\.\.\s+\d+\s+more\s*$
    )""",
    re.VERBOSE,
)


def never_evidence(line: str) -> bool:
    """Whether `line` (cleaned) is a verdict, a header, a closing brace or a stack frame."""
    return bool(
        _VERDICT.match(line) or _HEADER.match(line) or _BRACES.match(line) or _FRAME.match(line)
    )
