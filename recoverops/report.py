"""The human-readable report of one analysis: verdict, where, and the evidence in context."""

from __future__ import annotations

from typing import Any

from recoverops.analysis import Analysis
from recoverops.logs.document import LogDocument
from recoverops.redaction import Redactor


def render_report(*, name: str, text: str, analysis: Analysis, context: int = 2) -> str:
    doc = LogDocument(text)
    step = analysis.failing_step
    out = [
        f"{name}",
        f"  category:   {analysis.category.value}  (confidence {analysis.confidence:.2f})",
        f"  summary:    {analysis.summary}",
        f"  log format: {analysis.log_format}",
        f"  decided by: {analysis.decided_by}"
        + ("" if analysis.anomaly is None else f"  (anomaly {analysis.anomaly:.2f})"),
    ]
    if step is not None:
        code = f", exit code {step.exit_code}" if step.exit_code is not None else ""
        out.append(
            f"  failed in:  {step.command or step.name} (lines {step.start}-{step.end}{code})"
        )
    out.extend(_diagnosis_lines(analysis))
    if not analysis.evidence:
        out.append("  evidence:   none found")
        return "\n".join(out) + "\n"
    out.append("  evidence (most telling first):")
    redact = Redactor.for_log(text)  # the context lines come from the log, not the analysis
    width = len(str(min(len(doc), max(e.line for e in analysis.evidence) + context)))
    for rank, evidence in enumerate(analysis.evidence, start=1):
        out.append(f"  [{rank}] line {evidence.line}")
        first = max(1, evidence.line - context)
        last = min(len(doc), evidence.line + context)
        for number in range(first, last + 1):
            marker = ">" if number == evidence.line else " "
            shown = redact(doc.clean(number))[:300]
            out.append(f"    {marker} {number:>{width}} | {shown}")
    return "\n".join(out) + "\n"


def _diagnosis_lines(analysis: Analysis) -> list[str]:
    """The root cause and the fix, briefly: what an operator reads before the evidence."""
    out: list[str] = []
    cause = analysis.root_cause.to_json() if analysis.root_cause is not None else None
    if cause is not None:
        out.append(
            f"  root cause: {cause['explanation'][:400]}  (confidence {cause['confidence']:.2f})"
        )
        out.extend(_changed_lines(cause.get("what_changed")))
    fix = analysis.fix.to_json() if hasattr(analysis.fix, "to_json") else None
    if fix is not None:
        files = ", ".join(fix["files"][:3]) or "no file named"
        out.append(f"  fix:        {fix['kind']}: {files}  (confidence {fix['confidence']:.2f})")
        out.extend(f"    - {action[:200]}" for action in fix["actions"][:3])
        if fix["patch"]:
            out.append("    patch (validated):")
            out.extend(f"      {line}" for line in fix["patch"].splitlines()[:40])
        for language, snippet in (fix.get("snippets") or {}).items():
            out.append(f"    {language} (validated):")
            out.extend(f"      {line}" for line in snippet.splitlines()[:40])
    return out


# How many of the lines new against the passing run the text report shows.
_NEW_SHOWN = 8


def _changed_lines(changed: dict[str, Any] | None) -> list[str]:
    if not changed:
        return []
    out: list[str] = []
    if changed.get("new_lines") is not None:
        count, compared = changed["new_line_count"], changed["lines_compared"]
        out.append(f"  what changed: {count} of {compared} lines are new against the passing run")
        out.extend(
            f"    + {line['line']:>6} | {line['text'][:200]}"
            for line in changed["new_lines"][:_NEW_SHOWN]
        )
    if changed.get("changed_files"):
        files = ", ".join(changed["changed_files"][:10])
        out.append(f"  changed files of the failing commit: {files}")
    return out
