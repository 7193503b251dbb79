"""Jenkins console output: `[Pipeline] { (Stage)` … `[Pipeline] // stage` for pipelines;
`ERROR: script returned exit code N`, `Build step '…' marked build as failure` and
`Finished: FAILURE` say where it failed."""

from __future__ import annotations

import re

from recoverops.analysis import Step
from recoverops.logs.document import LogDocument
from recoverops.logs.formats.base import matches

_STAGE = re.compile(r"\[Pipeline\] \{ \(([^)\r\n]*)\)|\[Pipeline\] // stage")
_FAILURE = re.compile(
    r"ERROR: script returned exit code (\d+)|Build step '[^'\r\n]*' marked build as failure"
    r"|ERROR: [^\r\n]*|Finished: (?:FAILURE|ABORTED)"
)


class Jenkins:
    name = "jenkins"

    def detect(self, doc: LogDocument) -> bool:
        head = doc.text[:20_000]
        return (
            "[Pipeline]" in head
            or "Finished: FAILURE" in doc.text[-2_000:]
            or "' marked build as failure" in doc.text
            or (head.startswith("Started by ") and "Building in workspace" in head)
        )

    def steps(self, doc: LogDocument) -> list[Step]:
        steps: list[Step] = []
        current: tuple[str, int] | None = None
        for line, match in matches(doc, _STAGE):
            if match.group(1) is not None:
                current = (match.group(1), line)
            elif current is not None:
                steps.append(Step(name=current[0], start=current[1], end=line))
                current = None
        if current is not None:
            steps.append(Step(name=current[0], start=current[1], end=len(doc)))
        if not steps:
            steps = [Step(name="build", start=1, end=len(doc))]
        failure = next(matches(doc, _FAILURE), None)
        if failure is None:
            return steps
        failed_at, match = failure
        for i, step in enumerate(steps):
            if step.start <= failed_at <= step.end or i == len(steps) - 1:
                steps[i] = Step(
                    name=step.name,
                    start=step.start,
                    end=max(step.start, min(step.end, failed_at)),
                    failed=True,
                    exit_code=int(match.group(1)) if match.group(1) else None,
                )
                break
        return steps
