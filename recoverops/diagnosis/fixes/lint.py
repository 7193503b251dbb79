"""Lint and format: which files and rules, the formatter's own command, and the edit for the rules
whose fix is mechanical (trailing whitespace, a missing final newline, an unused import)."""

from __future__ import annotations

import re

from recoverops.diagnosis.fixes.base import FixContext, unique, with_edits
from recoverops.diagnosis.model import Component, FixProposal
from recoverops.taxonomy import Category

# (a word the log shows, the tool, the command that fixes what it reports; {files} is replaced)
FORMATTERS: tuple[tuple[str, str, str], ...] = (
    ("ruff", "ruff", "ruff check --fix {files} && ruff format {files}"),
    ("would reformat", "black", "black {files}"),
    ("black", "black", "black {files}"),
    ("isort", "isort", "isort {files}"),
    ("prettier", "prettier", "npx prettier --write {files}"),
    ("eslint", "eslint", "npx eslint --fix {files}"),
    ("gofmt", "gofmt", "gofmt -s -w {files}"),
    ("goimports", "goimports", "goimports -w {files}"),
    ("rubocop", "rubocop", "bundle exec rubocop -a {files}"),
    ("rustfmt", "rustfmt", "cargo fmt"),
    ("clang-format", "clang-format", "clang-format -i {files}"),
    ("license-maven-plugin", "license", "mvn license:format"),
    ("spotless", "spotless", "mvn spotless:apply"),
    ("flake8", "flake8", "autopep8 --in-place {files}"),
    ("pycodestyle", "pycodestyle", "autopep8 --in-place {files}"),
    ("pep8", "pep8", "autopep8 --in-place {files}"),
    ("pylint", "pylint", ""),
    ("checkstyle", "checkstyle", ""),
    ("sphinx", "sphinx", ""),
)
_RULE = re.compile(
    r"^\((?P<group>\w+)\) (?P<cs>\w+):"  # checkstyle: (imports) UnusedImports:
    r"|^(?P<code>[A-Z]{1,3}\d{3,4})\b"  # flake8, ruff, pylint codes
    r"|^[CWERF]: (?P<cop>[A-Z]\w+/\w+):"  # rubocop
    r"|\s(?P<eslint>[a-z][\w\-]*(?:/[\w\-]+)?)$"  # eslint's rule at the end of a row
)
_TRAILING = re.compile(r"\bW29[13]\b|trailing whitespace|illegal pattern '\\s\+\$'|TrailingSpaces")
_NO_FINAL_NEWLINE = re.compile(r"\bW292\b|no newline at end of file|NewlineAtEndOfFile")
_UNUSED_IMPORT = re.compile(r"\bF401\b|UnusedImports|unused-import|W0611")


def rule_of(component: Component) -> str:
    match = _RULE.search(component.detail)
    if not match:
        return ""
    return next(v for v in match.groups()[1:] if v) if match["group"] is None else match["cs"]


class Lint:
    def propose(self, context: FixContext) -> FixProposal | None:
        if context.analysis.category is not Category.BUILD_LINT:
            return None
        located = context.of_kind("source")
        errors = [c for c in located if c.severity == "error"] or located
        tool, command = self._formatter(context)
        files = unique([context.resolve(c.file or "") for c in errors])
        if not files and not command:
            return None
        rules = unique([rule_of(c) for c in errors])
        shown = " ".join(files[:10]) or "."
        actions = [command.format(files=shown)] if command else []
        actions += [f"fix {c.name}: {c.detail[:160]}" for c in errors[:5]]
        what = f"{tool} reports" if tool else "The check reports"
        proposal = FixProposal(
            kind="lint",
            files=files,
            explanation=(
                f"{what} {len(errors)} problem(s)"
                + (f" ({', '.join(rules[:5])})" if rules else "")
                + (f", first at {errors[0].name}: {errors[0].detail[:160]}" if errors else "")
                + (f". `{actions[0]}` fixes what the formatter can." if command else ".")
            ),
            confidence=min(0.9, 0.45 + 0.4 * context.analysis.confidence + (0.05 if files else 0)),
            actions=tuple(actions),
        )
        return with_edits(proposal, context, self._edits(context, errors))

    @staticmethod
    def _formatter(context: FixContext) -> tuple[str, str]:
        step = context.analysis.failing_step
        said = " ".join(
            [step.command or "" if step else ""] + [e.text for e in context.analysis.evidence]
        ).lower()
        for word, tool, command in FORMATTERS:
            if word in said:
                return tool, command
        for word, tool, command in FORMATTERS:
            if context.log_mentions(word):
                return tool, command
        # No tool named: the messages' own shape says which (flake8's codes are ruff's too).
        tools = {c.tool for c in context.of_kind("source")}
        if "flake8/ruff" in tools:
            return "flake8", "ruff check --fix {files}"
        if "rubocop" in tools:
            return "rubocop", "bundle exec rubocop -a {files}"
        return "", ""

    @staticmethod
    def _edits(context: FixContext, errors: list[Component]) -> dict[str, str]:
        edits: dict[str, str] = {}
        for error in errors:
            path = context.resolve(error.file or "")
            if path is None or error.position is None:
                continue
            text = edits.get(path) or context.read(path)
            if text is None:
                continue
            lines = text.split("\n")
            index = error.position - 1
            if _NO_FINAL_NEWLINE.search(error.detail) and not text.endswith("\n"):
                edits[path] = text + "\n"
            elif _TRAILING.search(error.detail) and 0 <= index < len(lines):
                lines[index] = lines[index].rstrip()
                edits[path] = "\n".join(lines)
            elif _UNUSED_IMPORT.search(error.detail) and 0 <= index < len(lines):
                line = lines[index]
                # only an import of one name on its own line is removed; a list is left to a tool
                if re.match(r"\s*import [\w.]+(?: as \w+)?;?\s*$", line) or re.match(
                    r"\s*from [\w.]+ import \w+(?: as \w+)?\s*$", line
                ):
                    lines[index] = "\0"
                    edits[path] = "\n".join(lines)
        return {path: text.replace("\0\n", "").replace("\0", "") for path, text in edits.items()}
