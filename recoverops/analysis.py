"""What the detector says about one log: the analysis result and its parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recoverops.taxonomy import Category


@dataclass(frozen=True, slots=True)
class Evidence:
    """One telling line: its 1-based number in the log as given, and its cleaned text."""

    line: int
    text: str
    score: float = 0.0
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """A step (stage, section, fold, command) of a CI job, as a 1-based inclusive line range."""

    name: str
    start: int
    end: int
    failed: bool = False
    exit_code: int | None = None
    # The last command the step ran before it failed (`$ mvn test`, `+ make`, `Run npm test`).
    command: str | None = None


@dataclass(frozen=True, slots=True)
class SignatureHit:
    """A catalogue signature that matched a line, and where that line sits."""

    signature: str
    category: Category
    line: int
    weight: float
    location: str  # "chunk", "step" or "log": where the line sits relative to the failure
    # What another failure causes (a BackOff event, an evicted pod): the cause, when it is
    # there, decides (`classify.catalogue`).
    symptom: bool = False


@dataclass(frozen=True, slots=True)
class Analysis:
    category: Category
    confidence: float
    summary: str
    evidence: tuple[Evidence, ...]
    log_format: str
    failing_step: Step | None = None
    templates: tuple[str, ...] = ()
    hits: tuple[SignatureHit, ...] = field(default=(), repr=False)
    scores: dict[Category, float] = field(default_factory=dict, repr=False)
    # The failure chunk's cleaned lines in log order (the top evidence lines with their
    # neighbours): what a learned model reads beside the signature hits.
    chunk: tuple[str, ...] = field(default=(), repr=False)
    fix: Any = None
    # How unlike the training failures this one is, in [0, 1] (None: no model has looked), and
    # which classifier gave the verdict: "rules", or "model:<name>/<version>".
    anomaly: float | None = None
    decided_by: str = "rules"
    # The root cause (`recoverops.diagnosis`): the failing components, why, and how sure. Like
    # `fix`, typed by the diagnosis and shown through its own `to_json`.
    root_cause: Any = None

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape of `recoverops analyze --json` and the HTTP API."""
        step = self.failing_step
        return {
            "category": self.category.value,
            "confidence": round(self.confidence, 3),
            "summary": self.summary,
            "evidence": [{"line": e.line, "text": e.text} for e in self.evidence],
            "fix": _json(self.fix),
            "log_format": self.log_format,
            "failing_step": (
                None
                if step is None
                else {
                    "name": step.name,
                    "start": step.start,
                    "end": step.end,
                    "exit_code": step.exit_code,
                    "command": step.command,
                }
            ),
            "signatures": sorted({h.signature for h in self.hits if h.location != "log"}),
            "anomaly": None if self.anomaly is None else round(self.anomaly, 3),
            "decided_by": self.decided_by,
            "root_cause": _json(self.root_cause),
        }


def _json(value: Any) -> Any:
    return value.to_json() if hasattr(value, "to_json") else value
