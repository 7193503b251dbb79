"""Tests: the failing tests, their files and the code they test, and the command that reruns
them; a test the runner itself marks flaky (it passed on a retry) gets a rerun instead."""

from __future__ import annotations

import re

from recoverops.diagnosis.fixes.base import FixContext, unique
from recoverops.diagnosis.model import Component, FixProposal
from recoverops.taxonomy import Category

# A runner's own word that a test passed on a retry.
_FLAKY = re.compile(r"^\s*(?:\[WARNING\]\s+)?Flakes:|\bRERUN\b|\bflaky\b", re.IGNORECASE)
_TESTED = re.compile(
    r"^(?P<dir>.*/)?(?:test_(?P<py>\w+)\.py|(?P<cls>\w+?)(?:Tests?|IT|Spec)\.(?P<ext>\w+)|("
    r"?P<js>[\w.\-]+)\.(?:test|spec)\.(?P<jsext>[jt]sx?))$"
)


def rerun_command(test: Component) -> str:
    name = test.name
    if test.tool in ("junit", "gradle"):
        cls, _, method = name.rpartition(".")
        simple = cls.rsplit(".", 1)[-1]
        if test.tool == "gradle":
            return f"./gradlew test --tests '{name}'"
        return f"mvn test -Dtest='{simple}#{method}'"
    if test.tool == "pytest":
        return f"pytest '{name}'"
    if test.tool == "unittest":
        return f"python -m unittest {name}"
    if test.tool == "go":
        return f"go test -run '^{name.split('/')[0]}$' ./..."
    if test.tool == "jest":
        return f"npx jest {test.file or name!r}"
    if test.tool == "rspec":
        return f"bundle exec rspec {test.file or ''}"
    if test.tool == "phpunit":
        return f"vendor/bin/phpunit --filter '{name.rsplit('::', 1)[-1]}'"
    if test.tool == "dotnet":
        return f"dotnet test --filter '{name}'"
    return f"rerun {name}"


def tested_file(path: str) -> str | None:
    """The file a test file most likely tests, by the usual naming (`test_a.py` -> `a.py`)."""
    match = _TESTED.match(path)
    if not match:
        return None
    if match["py"]:
        return f"{match['py']}.py"
    if match["cls"]:
        base = (match["dir"] or "").replace("src/test/", "src/main/")
        return f"{base}{match['cls']}.{match['ext']}"
    if match["js"]:
        return f"{match['js']}.{match['jsext']}"
    return None


class Tests:
    def propose(self, context: FixContext) -> FixProposal | None:
        if context.analysis.category is not Category.BUILD_TEST:
            return None
        tests = context.of_kind("test")
        if not tests:
            return None
        flaky = any(_FLAKY.search(line) for _, line in context.text.lines())
        files: list[str | None] = []
        for test in tests[:5]:
            if test.file:
                files.append(context.resolve(test.file))
        for test in tests[:5]:
            if test.file and (tested := tested_file(test.file)):
                files.append(context.resolve(tested) if context.checkout else tested)
        located = [c for c in context.of_kind("source") if c.severity == "error"]
        files.extend(context.resolve(c.file or "") for c in located[:3])
        names = ", ".join(t.name for t in tests[:3]) + (
            f" and {len(tests) - 3} more" if len(tests) > 3 else ""
        )
        if flaky:
            return FixProposal(
                kind="test",
                files=unique(files),
                explanation=(
                    f"The runner marks the failing test(s) {names} as flaky (passed"
                    f" on a retry): rerun, and quarantine if it recurs."
                ),
                confidence=0.6,
                actions=("rerun the job",) + tuple(rerun_command(t) for t in tests[:3]),
            )
        return FixProposal(
            kind="test",
            files=unique(files),
            explanation=(
                f"{len(tests)} test(s) failed: {names}. First failure: {tests[0].detail[:200]}"
            ),
            confidence=min(0.85, 0.4 + 0.4 * context.analysis.confidence),
            actions=tuple(rerun_command(t) for t in tests[:3]),
        )
