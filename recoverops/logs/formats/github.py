"""GitHub Actions job logs: `##[group]Run …` opens a step, `##[error]` marks the failure."""

from __future__ import annotations

import re

from recoverops.analysis import Step
from recoverops.logs.document import LogDocument
from recoverops.logs.formats.base import matches, shorten

_STEP = re.compile(r"##\[group\]Run ([^\r\n]*)|Post job cleanup\.")
_ERROR = re.compile(r"##\[error\]([^\r\n]*)")
_EXIT = re.compile(r"exit code (\d+)")
# The runner stamps every line with 7-digit fractional seconds; nothing else does.
_RUNNER_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z ", re.MULTILINE)


class GitHubActions:
    name = "github"

    def detect(self, doc: LogDocument) -> bool:
        return (
            "##[group]" in doc.text
            or "##[error]" in doc.text
            or _RUNNER_TIMESTAMP.search(doc.text, 0, 4096) is not None
        )

    def steps(self, doc: LogDocument) -> list[Step]:
        starts = [(1, "Set up job")]
        for line, match in matches(doc, _STEP):
            starts.append((line, shorten(match.group(1) or "Post job cleanup")))
        errors = list(matches(doc, _ERROR))
        steps: list[Step] = []
        for index, (start, name) in enumerate(starts):
            end = starts[index + 1][0] - 1 if index + 1 < len(starts) else len(doc)
            if end < start:
                continue
            inside = [m for line, m in errors if start <= line <= end]
            exit_code = None
            for m in inside:
                code = _EXIT.search(m.group(1))
                if code:
                    exit_code = int(code.group(1))
            failed = bool(inside)
            if failed:
                # The step ends where the runner declared it failed.
                end = max(line for line, _ in errors if start <= line <= end)
            steps.append(Step(name=name, start=start, end=end, failed=failed, exit_code=exit_code))
        return steps
