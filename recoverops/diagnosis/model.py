"""What the diagnosis says: the failing components, the root cause, and typed fix proposals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ComponentKind = Literal["test", "source", "dependency", "resource", "credential"]
FixKind = Literal["dependency", "compilation", "lint", "test", "kubernetes", "ci_config", "iam"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Component:
    """One thing the log names as failing.

    `name` is what an operator reads (a test id, `path:line`, a coordinate, `pod/web-1`, a
    secret's name: never a secret's value); `log_line` is the 1-based line of the log that names
    it; `file` and `position` are the repository file and its line, where the log says them.
    """

    kind: ComponentKind
    name: str
    log_line: int
    file: str | None = None
    position: int | None = None
    detail: str = ""
    severity: Severity = "error"
    # The tool that printed it ("javac", "flake8", "pip", "maven", "kubernetes", ...).
    tool: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "file": self.file,
            "line": self.position,
            "detail": self.detail,
            "tool": self.tool,
            "log_line": self.log_line,
        }


@dataclass(frozen=True, slots=True)
class RootCause:
    """The failing components, most telling first, a paragraph saying why, and a confidence."""

    components: tuple[Component, ...]
    explanation: str
    confidence: float
    history: dict[str, Any] | None = None
    # Against the last passing run of the same job: the failing log's new lines
    # (`recoverops.logs.what_changed`) and the failing commit's changed files, when known.
    what_changed: dict[str, Any] | None = None
    # Whether an LLM wrote the explanation and chose the fix (`diagnosis.llm`): {"used": true,
    # ...} or {"used": false, "reason": ...}; None when no LLM is configured.
    llm: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "components": [c.to_json() for c in self.components],
            "explanation": self.explanation,
            "confidence": round(self.confidence, 3),
        }
        if self.history is not None:
            out["history"] = self.history
        if self.what_changed is not None:
            out["what_changed"] = self.what_changed
        if self.llm is not None:
            out["llm"] = self.llm
        return out


@dataclass(frozen=True, slots=True)
class FixProposal:
    """A typed proposal: what kind, which files (most likely first), the unified diff where a
    file changes and the checkout was given, what to do, why, and how sure."""

    kind: FixKind
    files: tuple[str, ...]
    explanation: str
    confidence: float
    actions: tuple[str, ...] = ()
    patch: str | None = None
    # The file contents the patch was made against and what it makes of them: what validation
    # checks; not part of the JSON.
    originals: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    # Validated infrastructure-as-code to paste where no checkout file was changed
    # ("terraform", "cloudformation": an IAM grant); in the JSON only when there are some.
    snippets: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "files": list(self.files),
            "patch": self.patch,
            "actions": list(self.actions),
            "explanation": self.explanation,
            "confidence": round(self.confidence, 3),
        }
        if self.snippets:
            out["snippets"] = dict(self.snippets)
        return out
