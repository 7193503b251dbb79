"""GitLab CI job traces: `section_start:<ts>:<name>` / `section_end:<ts>:<name>` around each
part of the job, and `ERROR: Job failed: …` after the part that failed."""

from __future__ import annotations

import re

from recoverops.analysis import Step
from recoverops.logs.document import LogDocument
from recoverops.logs.formats.base import matches

_SECTION = re.compile(r"section_(start|end):\d+:([\w.\-]+)")
_FAILED = re.compile(r"ERROR: Job failed: ([^\r\n]*)")
_EXIT = re.compile(r"exit (?:code|status) (\d+)")
# Sections the runner adds after a failure; the job did not fail in them.
_AFTER_FAILURE = ("after_script", "upload_artifacts_on_failure", "cleanup_file_variables")


class GitLabCI:
    name = "gitlab"

    def detect(self, doc: LogDocument) -> bool:
        return (
            "section_start:" in doc.text
            or "ERROR: Job failed" in doc.text
            or doc.text.lstrip().startswith("Running with gitlab-runner")
        )

    def steps(self, doc: LogDocument) -> list[Step]:
        open_sections: dict[str, int] = {}
        steps: list[Step] = []
        for line, match in matches(doc, _SECTION):
            kind, name = match.group(1), match.group(2)
            if kind == "start":
                open_sections[name] = line
            elif name in open_sections:
                steps.append(Step(name=name, start=open_sections.pop(name), end=line))
        for name, start in open_sections.items():
            steps.append(Step(name=name, start=start, end=len(doc)))
        steps.sort(key=lambda s: s.start)
        if not steps:
            steps = [Step(name="job", start=1, end=len(doc))]
        failure = next(matches(doc, _FAILED), None)
        if failure is None:
            return steps
        failed_at, match = failure
        code = _EXIT.search(match.group(1))
        candidates = [
            i
            for i, s in enumerate(steps)
            if s.start <= failed_at and not s.name.startswith(_AFTER_FAILURE)
        ]
        if candidates:
            i = candidates[-1]
            steps[i] = Step(
                name=steps[i].name,
                start=steps[i].start,
                end=min(steps[i].end, failed_at),
                failed=True,
                exit_code=int(code.group(1)) if code else None,
            )
        return steps
